"""The smallest session: a chunk that says one line, then the connection closes."""
import pytest

from tcplua_harness.client import START_LUA


@pytest.mark.spec("output.say.newline", "session.end.return")
def test_say_hello_then_close(server):
    """output.say.newline: ngx.say writes its arguments followed by "\\n".
    session.end.return: the connection closes when the chunk returns. The client speaks
    first (START, consumed by START_LUA): the 2015 module starts the chunk only then, and
    starting on accept is the next case's clause."""
    srv = server(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua '%sngx.say("hello world")';
    }""" % START_LUA)
    c = srv.connect().start()
    assert c.recv_exactly(12) == b"hello world\n"
    c.expect_closed()


@pytest.mark.spec("session.start.on_accept")
def test_each_connection_runs_the_chunk(server):
    """session.start.on_accept: the chunk runs once per accepted connection, so two
    connections, open at the same time and sending nothing, each get the full output."""
    srv = server(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello world")';
    }""")
    a, b = srv.connect(), srv.connect()
    assert b.recv_until_close() == b"hello world\n"
    assert a.recv_until_close() == b"hello world\n"
