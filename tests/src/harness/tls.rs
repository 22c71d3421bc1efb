//! TLS for tests: a throwaway CA and a certificate it signed, made with `openssl`, and nginx
//! serving TLS (a proxy in front of vr, a git server) from a config of the test's.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Files in `dir`: `ca.pem` (the CA to trust), `server.pem` and `server.key` for `names`
/// (each `IP:…` or `DNS:…`). Returns the CA certificate's text.
pub fn test_certificates(dir: &Path, names: &[&str]) -> String {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("running openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=vr test CA",
            "-days",
            "2",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=vr test server",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("san.ext"),
        format!("subjectAltName={}\n", names.join(",")),
    )
    .expect("writing san.ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    std::fs::read_to_string(dir.join("ca.pem")).expect("reading ca.pem")
}

/// nginx in the foreground with `server_block` (an `http { server { … } }` body), its pid and
/// temp files in `dir`; killed when dropped.
pub struct Nginx {
    child: Child,
}

impl Nginx {
    /// Starts `nginx` (`command` is how to start it: plainly, or inside a namespace).
    pub fn start(mut command: Command, dir: &Path, server_block: &str) -> Nginx {
        use std::os::unix::process::CommandExt;
        let d = dir.display();
        let conf: PathBuf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off; pid {d}/nginx.pid; error_log {d}/nginx-error.log;\n\
                 events {{}}\n\
                 http {{ access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
                   fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
                   {server_block} }}\n"
            ),
        )
        .expect("writing nginx.conf");
        let child = command
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting nginx");
        Nginx { child }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        super::procs::destroy(&mut self.child, true);
    }
}
