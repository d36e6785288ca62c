-- Runs once at start-up; globals set here are visible to every session.
started_at = ngx.localtime()
