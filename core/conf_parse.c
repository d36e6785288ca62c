/* conf_parse.c: the nginx-style tokenizer and block parser, working on memory buffers only.
 * Tokens follow nginx's ngx_conf_read_token(): words, '...' and "..." quoting, backslash
 * escapes, '#' comments at token start, ';' '{' '}' as terminators. Each directive found is
 * handed to the dispatcher conf_handle() (conf_table.c), whose block directives recurse into
 * conf_parse_block(). */
#include "conf_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum tok {
    TOK_DIRECTIVE,
    TOK_BLOCK_START,
    TOK_BLOCK_END,
    TOK_EOF,
    TOK_ERROR
};

#define MAX_DEPTH 64 /* blocks + includes; bounds recursion on hostile input */

int conf_error(conf_t *cf, const char *fmt, ...)
{
    char msg[CONF_ERRLEN - 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) /* a quoted argument may hold line breaks: keep one line */
        if (*p == '\n' || *p == '\r') *p = ' ';
    if (cf->src && strcmp(cf->src->name, "command line") == 0)
        snprintf(cf->err, sizeof cf->err, "%s in command line", msg);
    else if (cf->src)
        snprintf(cf->err, sizeof cf->err, "%s in %s:%d", msg, cf->src->name, cf->src->line);
    else
        snprintf(cf->err, sizeof cf->err, "%s", msg);
    return -1;
}

static int is_space(int ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* Copies src[0..n) into pool memory applying nginx's escapes:
 * \" \' \\ drop the backslash; \t \r \n become control characters; others stay as written. */
static void push_arg(conf_t *cf, const char *s, size_t n)
{
    char *d = pool_calloc(cf->main->pool, n + 1), *o = d;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1];
            if (c == '"' || c == '\'' || c == '\\') {
                *o++ = c;
                i++;
                continue;
            }
            if (c == 't') {
                *o++ = '\t';
                i++;
                continue;
            }
            if (c == 'r') {
                *o++ = '\r';
                i++;
                continue;
            }
            if (c == 'n') {
                *o++ = '\n';
                i++;
                continue;
            }
        }
        *o++ = s[i];
    }
    cf->args[cf->nargs] = d;
    cf->arglen[cf->nargs++] = (size_t)(o - d);
}

/* Token state: where the current word started and how it is quoted. */
typedef struct {
    size_t start;
    int quote, escaped, need_space, in_word, comment;
} lex_t;

static enum tok at_token_start(conf_t *cf, lex_t *lx, char ch)
{
    conf_src_t *s = cf->src;
    switch (ch) {
    case ';':
    case '{':
        if (cf->nargs == 0) {
            conf_error(cf, "unexpected \"%c\"", ch);
            return TOK_ERROR;
        }
        return ch == '{' ? TOK_BLOCK_START : TOK_DIRECTIVE;
    case '}':
        if (cf->nargs != 0) {
            conf_error(cf, "unexpected \"}\"");
            return TOK_ERROR;
        }
        return TOK_BLOCK_END;
    case '#': lx->comment = 1; return TOK_EOF; /* TOK_EOF here means "keep reading" */
    case '"':
    case '\'':
        lx->quote = ch;
        lx->start = s->pos;
        lx->in_word = 1;
        return TOK_EOF;
    case '\\': lx->escaped = 1; /* fall through */
    default:
        lx->start = s->pos - 1;
        lx->in_word = 1;
        return TOK_EOF;
    }
}

static int add_word(conf_t *cf, lex_t *lx, size_t end)
{
    if (cf->nargs == CONF_MAX_ARGS)
        return conf_error(cf, "too many arguments in \"%s\" directive", cf->args[0]);
    push_arg(cf, cf->src->buf + lx->start, end - lx->start);
    lx->in_word = 0;
    return 0;
}

/* Inside a word or a quoted string: returns TOK_EOF to continue, or a terminator. */
static enum tok in_word(conf_t *cf, lex_t *lx, char ch)
{
    conf_src_t *s = cf->src;
    if (lx->escaped) {
        lx->escaped = 0;
        return TOK_EOF;
    }
    if (ch == '\\') {
        lx->escaped = 1;
        return TOK_EOF;
    }
    if (lx->quote) {
        if (ch != lx->quote) return TOK_EOF;
        lx->quote = 0;
        lx->need_space = 1;
        return add_word(cf, lx, s->pos - 1) ? TOK_ERROR : TOK_EOF;
    }
    if (!is_space(ch) && ch != ';' && ch != '{') return TOK_EOF;
    if (add_word(cf, lx, s->pos - 1)) return TOK_ERROR;
    if (ch == ';') return TOK_DIRECTIVE;
    if (ch == '{') return TOK_BLOCK_START;
    return TOK_EOF;
}

/* After a closing quote only space, ';' or '{' may follow (as in nginx). */
static enum tok after_quote(conf_t *cf, lex_t *lx, char ch)
{
    if (is_space(ch)) {
        lx->need_space = 0;
        return TOK_EOF;
    }
    if (ch == ';') return TOK_DIRECTIVE;
    if (ch == '{') return TOK_BLOCK_START;
    conf_error(cf, "unexpected \"%c\"", ch);
    return TOK_ERROR;
}

static enum tok read_token(conf_t *cf)
{
    conf_src_t *s = cf->src;
    lex_t lx = {0};
    cf->nargs = 0;
    while (s->pos < s->len) {
        char ch = s->buf[s->pos++];
        enum tok t;
        if (ch == '\n') {
            s->line++;
            lx.comment = 0;
        }
        if (lx.comment) continue; /* a comment may hold any byte, even NUL */
        if (ch == '\0') {
            conf_error(cf, "unexpected NUL byte");
            return TOK_ERROR;
        }
        if (lx.need_space) t = after_quote(cf, &lx, ch);
        else if (lx.in_word) t = in_word(cf, &lx, ch);
        else if (is_space(ch)) continue;
        else t = at_token_start(cf, &lx, ch);
        if (t != TOK_EOF) return t;
    }
    if (lx.in_word && !lx.quote && add_word(cf, &lx, s->pos)) return TOK_ERROR;
    if (cf->nargs || lx.in_word) {
        conf_error(cf, "unexpected end of file, expecting \";\" or \"}\"");
        return TOK_ERROR;
    }
    return TOK_EOF;
}

/* Parses directives until the "}" that ends the current block (in_block) or, for a whole
 * source (in_block 0), until its end. */
static int parse(conf_t *cf, int in_block)
{
    if (++cf->depth > MAX_DEPTH) return conf_error(cf, "too deeply nested blocks or includes");
    for (;;) {
        enum tok t = read_token(cf);
        if (t == TOK_ERROR) return -1;
        if (t == TOK_EOF) {
            if (in_block) return conf_error(cf, "unexpected end of file, expecting \"}\"");
            break;
        }
        if (t == TOK_BLOCK_END) {
            if (!in_block) return conf_error(cf, "unexpected \"}\"");
            break;
        }
        if (conf_handle(cf, t == TOK_BLOCK_START) != 0) return -1;
    }
    cf->depth--;
    return 0;
}

int conf_parse_block(conf_t *cf)
{
    return parse(cf, 1);
}

int conf_parse(conf_t *cf, const char *buf, size_t len, const char *name)
{
    conf_src_t src = {.buf = buf, .len = len, .name = name, .line = 1}, *saved = cf->src;
    cf->src = &src;
    int rc = parse(cf, 0);
    cf->src = saved;
    return rc;
}
