"""SPEC §2.2 Lexical structure: words, quotes, escapes, comments, NUL bytes, line numbers."""
import pytest

from tcplua_harness.cases import SERVER, start_session

spec = pytest.mark.spec


def main_text(impl):
    """The adapter's default main directives, one per line (for whole-file texts)."""
    return "".join(line + "\n" for _, line in impl.adapter.default_main)


# -- conf.lex.words ---------------------------------------------------------------------------------
@spec("conf.lex.words")
def test_all_whitespace_kinds_separate_words(impl, server):
    """conf.lex.words: Words are separated by spaces, tabs, CR and LF."""
    conf = main_text(impl) + ("tcp\r\n{\n\tserver\t{\r\n\t\tlisten\t@PORT0@\r\n;\n  protocol \t tcp_lua\n;"
                   "\r\n\t\tprocess_by_lua\n'ngx.say(\"ok\")'\r\n;\n\t}\r\n}\r\n")
    impl.test_config(conf_text=conf).assert_ok()
    srv = server(conf_text=conf)
    assert start_session(srv).recv_until_close() == b"ok\n"


@spec("conf.lex.words")
def test_semicolon_and_brace_end_the_word(impl):
    """conf.lex.words: A `;` or `{` also ends the word before it."""
    conf = main_text(impl) + "tcp{server{listen @PORT0@;protocol tcp_lua;process_by_lua 'ngx.say(1)';}}"
    impl.test_config(conf_text=conf).assert_ok()


@spec("conf.lex.words")
def test_closing_brace_inside_a_word_is_part_of_it(impl):
    """conf.lex.words: a `}` inside a word is part of the word."""
    r = impl.test_config(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua};
        process_by_lua 'ngx.say(1)';
    }""")
    r.assert_emerg('unknown protocol "tcp_lua}"', r.line_of("protocol"))


# -- conf.lex.quotes --------------------------------------------------------------------------------
@spec("conf.lex.quotes")
@pytest.mark.parametrize("quote", ['"', "'"])
def test_quoted_word_keeps_special_characters(server, quote):
    """conf.lex.quotes: A word MAY be quoted with `"` or `'`; inside quotes spaces, `;`, `{`,
    `}` and `#` are ordinary characters."""
    inner = "'" if quote == '"' else '"'
    code = "ngx.say(%sa; {b} #c%s)" % (inner, inner)
    srv = server(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua %s%s%s;
    }""" % (quote, code, quote))
    assert start_session(srv).recv_until_close() == b"a; {b} #c\n"


@spec("conf.lex.quotes")
@pytest.mark.parametrize("after", ["x", "'", '"'])
def test_only_separators_after_closing_quote(impl, after):
    """conf.lex.quotes: After a closing quote only whitespace, `;` or `{` may follow;
    anything else MUST be the error `unexpected "C"`."""
    r = impl.test_config(tcp="""
    server {
        listen @PORT0@;
        protocol "tcp_lua"%s;
        process_by_lua 'ngx.say(1)';
    }""" % after)
    r.assert_emerg('unexpected "%s"' % after, r.line_of("protocol"))


@spec("conf.lex.quotes")
def test_quote_followed_by_brace_or_space(impl):
    """conf.lex.quotes: a closing quote followed by whitespace or `;` is fine."""
    r = impl.test_config(tcp="""
    server {
        listen "@PORT0@" ;
        protocol 'tcp_lua';
        process_by_lua 'ngx.say(1)';
    }""")
    r.assert_ok()


# -- conf.lex.escapes -------------------------------------------------------------------------------
# Each word names the error log file; the file the implementation creates shows what the
# lexer made of the word, with no other layer (Lua, shell) interpreting escapes.
ESCAPES = [
    (r'"logs/e-\t-.log"', "e-\t-.log"),
    (r"logs/e-\n-.log", "e-\n-.log"),
    (r"'logs/e-\r-.log'", "e-\r-.log"),
    (r'"logs/e-\"-.log"', 'e-"-.log'),
    (r"'logs/e-\'-.log'", "e-'-.log"),
    (r"logs/e-\\-.log", "e-\\-.log"),
    (r"logs/e-\x-.log", "e-\\x-.log"),
    (r"logs/e-\;-.log", "e-\\;-.log"),
    (r"logs/e-\ -.log", "e-\\ -.log"),
]


@spec("conf.lex.escapes")
@pytest.mark.parametrize("word,name", ESCAPES, ids=[w for w, _ in ESCAPES])
def test_escape_sequences(server, word, name):
    """conf.lex.escapes: In quoted and unquoted words a backslash MUST make the next character
    ordinary; `\\"`, `\\'` and `\\\\` MUST produce the character without the backslash; `\\n`,
    `\\t`, `\\r` MUST produce LF, TAB and CR; any other `\\X` MUST keep both characters."""
    srv = server(main="error_log %s debug;" % word, tcp=SERVER)
    srv.wait_path("logs/" + name)
    assert start_session(srv).recv_until_close() == b"ok\n"


# -- conf.lex.comments ------------------------------------------------------------------------------
@spec("conf.lex.comments")
def test_comments_run_to_end_of_line(server):
    """conf.lex.comments: A `#` at the start of a word MUST begin a comment that runs to the
    end of the line."""
    srv = server(tcp="""
    # a comment with ; { } ' " and no end
    server {  # after a brace {
        listen # between words ;
            @PORT0@;   # after a directive }
        protocol tcp_lua;
        process_by_lua 'ngx.say("ok")';
    #}
    }""")
    assert start_session(srv).recv_until_close() == b"ok\n"


@spec("conf.lex.comments")
def test_hash_inside_a_word_is_ordinary(impl):
    """conf.lex.comments: elsewhere `#` is an ordinary character."""
    r = impl.test_config(tcp="""
    server {
        listen @PORT0@;
        protocol tcp#lua;
        process_by_lua 'ngx.say(1)';
    }""")
    r.assert_emerg('unknown protocol "tcp#lua"', r.line_of("protocol"))


# -- conf.lex.nul -----------------------------------------------------------------------------------
@spec("conf.lex.nul")
@pytest.mark.parametrize("where", ["word", "between", "quoted"])
def test_nul_byte_is_an_error(impl, where):
    """conf.lex.nul: A NUL byte anywhere outside a comment MUST be the error
    `unexpected NUL byte`."""
    line = {"word": "daemon of\0f;", "between": "daemon \0 off;", "quoted": "daemon 'o\0ff';"}
    r = impl.test_config(conf_text="worker_processes 1;\n%s\n" % line[where])
    r.assert_emerg("unexpected NUL byte", 2)


@spec("conf.lex.nul")
def test_nul_byte_in_comment_is_ignored(impl):
    """conf.lex.nul: (outside a comment) — a NUL inside a comment is not an error."""
    r = impl.test_config(main="# nul \0 here\n", tcp=SERVER)
    r.assert_ok()


# -- conf.lex.lines ---------------------------------------------------------------------------------
@spec("conf.lex.lines")
def test_directive_error_reports_line_of_semicolon(impl):
    """conf.lex.lines: for directive errors, the line of the terminating `;` or `{`."""
    r = impl.test_config(tcp="""
    server {
        listen @PORT0@;
        protocol
            bogus_proto
            ;
        process_by_lua 'ngx.say(1)';
    }""")
    semicolon = r.line_of("bogus_proto") + 1
    r.assert_emerg('unknown protocol "bogus_proto"', semicolon)


@spec("conf.lex.lines")
def test_lines_inside_quoted_words_are_counted(impl):
    """conf.lex.lines: Errors MUST name the file and the line number at which the parser
    stood: newlines inside a quoted multi-line Lua chunk count."""
    r = impl.test_config(tcp="""
    server {
        listen @PORT0@;
        protocol tcp_lua;
        process_by_lua '
            local a = 1
            ngx.say(a)
        ';
        bogus_directive;
    }""")
    r.assert_emerg('unknown directive "bogus_directive"', r.line_of("bogus_directive"))


@spec("conf.lex.lines")
def test_crlf_counts_one_line(impl):
    """conf.lex.lines: CR LF line ends count as one line each."""
    r = impl.test_config(conf_text="daemon off;\r\nmaster_process off;\r\nbogus_directive;\r\n")
    r.assert_emerg('unknown directive "bogus_directive"', 3)


@spec("conf.lex.lines")
def test_unknown_directive_reports_line_of_brace(impl):
    """conf.lex.lines: a block error is reported at the line of its `{`."""
    r = impl.test_config(conf_text="daemon off;\nbogus_block\n\n{\n}\n")
    r.assert_emerg('unknown directive "bogus_block"', 4)
