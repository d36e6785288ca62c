ngx.say("hello from tcplua, up since ", started_at)
ngx.say("now: ", ngx.utctime(), " UTC")
