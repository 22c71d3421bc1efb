//! A test balancer and a test app for it: nginx in the foreground with a folder of pool files
//! (the upstreams vr or another tool writes) and one server per upstream, and a web app whose
//! procs answer with their `COLOUR`, so a client can tell v1 from v2.

use std::path::Path;

use super::free_port;
use super::tls::Nginx;

/// The app's server: answers every GET with `$COLOUR` (or `?`), on `$PORT` of 127.0.0.1.
pub const ECHO_PY: &str = "import http.server, os\n\
class H(http.server.BaseHTTPRequestHandler):\n\
\x20   def do_GET(self):\n\
\x20       body = (os.environ.get('COLOUR', '?') + '\\n').encode()\n\
\x20       self.send_response(200)\n\
\x20       self.send_header('Content-Length', str(len(body)))\n\
\x20       self.end_headers()\n\
\x20       self.wfile.write(body)\n\
\x20   def log_message(self, *args):\n\
\x20       pass\n\
http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n";

/// Its uptest: `GET /` on `HOST PORT` answers.
pub const ECHO_UPTEST: &str = "#!/bin/sh\nexec python3 -c 'import sys, urllib.request; urllib.request.urlopen(\"http://%s:%s/\" % (sys.argv[1], sys.argv[2]), timeout=5)' \"$1\" \"$2\"\n";

/// nginx serving `pools/*.conf`: for each `(file, upstream)` given, a placeholder upstream in
/// `pools/file` (nginx needs each upstream it proxies to) and a server on `ports[i]` proxying
/// to it. No retry on another node (`proxy_next_upstream off`): a request sent to a proc that
/// stopped before it left its pool fails, so a request loop sees any ordering mistake.
pub struct NginxEdge {
    pub dir: tempfile::TempDir,
    pub ports: Vec<u16>,
    _nginx: Nginx,
}

impl NginxEdge {
    pub fn start(upstreams: &[(&str, &str)]) -> NginxEdge {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().display().to_string();
        let pools = dir.path().join("pools");
        std::fs::create_dir_all(&pools).expect("pools dir");
        let mut block = format!("include {d}/pools/*.conf; proxy_next_upstream off;\n");
        let mut ports = Vec::new();
        for (file, upstream) in upstreams {
            std::fs::write(
                pools.join(file),
                format!("upstream {upstream} {{ server 127.0.0.1:9 down; }}\n"),
            )
            .expect("placeholder pool");
            let port = free_port();
            block.push_str(&format!(
                "server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://{upstream}; }} }}\n"
            ));
            ports.push(port);
        }
        let nginx = Nginx::start(
            std::process::Command::new("/usr/sbin/nginx"),
            dir.path(),
            &block,
        );
        NginxEdge {
            dir,
            ports,
            _nginx: nginx,
        }
    }

    /// `nginx` with this instance's prefix and config, followed by `args` (`-t`, `-s reload`).
    pub fn nginx(&self, args: &str) -> String {
        let d = self.dir.path().display();
        format!("/usr/sbin/nginx -p {d} -c {d}/nginx.conf {args}")
            .trim_end()
            .to_string()
    }

    /// Balancer `name` of kind nginx for this instance, run by the vr hosts `hosts`, with a
    /// drain grace of `drain_ms`.
    pub fn balancer(
        &self,
        name: &str,
        hosts: &[&str],
        drain_ms: u64,
    ) -> vr_app::balancer::BalancerSpec {
        vr_app::balancer::BalancerSpec {
            name: name.into(),
            kind: vr_app::balancer::BalancerKind::Nginx,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            pool_dir: self.pools().display().to_string(),
            validate_cmd: self.nginx("-t"),
            reload_cmd: self.nginx("-s reload"),
            pid_file: self.path().join("nginx.pid").display().to_string(),
            drain_ms,
        }
    }

    pub fn pools(&self) -> std::path::PathBuf {
        self.dir.path().join("pools")
    }

    /// A pool file's text ('' when absent).
    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.pools().join(file)).unwrap_or_default()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}
