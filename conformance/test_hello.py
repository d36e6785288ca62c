"""The smallest session: a chunk that says one line, then the connection closes."""
import pytest


@pytest.mark.spec("session.start.on_accept", "output.say.newline")
def test_say_hello_then_close(server):
    """session.start.on_accept: the process_by_lua chunk runs for each accepted connection.
    output.say.newline: ngx.say writes its arguments followed by "\\n".
    The connection closes when the chunk returns."""
    srv = server(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello world")';
    }""")
    c = srv.connect()
    assert c.recv_exactly(12) == b"hello world\n"
    c.expect_closed()


@pytest.mark.spec("session.start.on_accept")
def test_each_connection_runs_the_chunk(server):
    """session.start.on_accept: the chunk runs once per accepted connection, so two
    connections, open at the same time, each get the full output."""
    srv = server(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua 'ngx.say("hello world")';
    }""")
    a, b = srv.connect(), srv.connect()
    assert b.recv_until_close() == b"hello world\n"
    assert a.recv_until_close() == b"hello world\n"
