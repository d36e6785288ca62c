-- One light session per message: receive, answer, wait for the next request.
while true do
    local data, err, partial = ngx.receive(10, 6)
    if not data then
        ngx.say("receive failed: ", err, " partial: ", partial)
        ngx.exit()
    end
    ngx.say("receive ret ", data)
    ngx.wait_next_request()
end
