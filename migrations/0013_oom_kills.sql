-- How many times the kernel killed a proc for going past its memory limit (its cgroup's
-- count, read by the poller when the proc stops or restarts): the dashboard says so.
ALTER TABLE procs ADD COLUMN oom_kills INTEGER NOT NULL DEFAULT 0;
