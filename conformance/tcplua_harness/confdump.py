"""Reading `-T` output: the files it echoes and its effective configuration as a tree.

The effective configuration is "in the configuration language", which leaves spelling free
(60s, 1m and 60000ms are one value), so cases compare parsed values: parse_time/parse_size
implement the value grammar of SPEC.md [conf.value.time] and [conf.value.size].
"""
import re

FILE_HEADER = re.compile(r"^# configuration file (.*):$")
EFFECTIVE_HEADER = "# effective configuration (defaults applied):"
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


class Directive:
    def __init__(self, name, args, block=None):
        self.name, self.args, self.block = name, args, block

    def __repr__(self):
        return "Directive(%r, %r%s)" % (self.name, self.args, ", {...}" if self.block else "")


def split_dump(stdout):
    """-> ({path: text}, effective text or None)."""
    files, effective, current, buf = {}, None, None, []

    def flush():
        if current is not None:
            files[current] = "\n".join(buf)

    for line in stdout.splitlines():
        m = FILE_HEADER.match(line)
        if m or line == EFFECTIVE_HEADER:
            flush()
            current, buf = (m.group(1) if m else None), []
            if not m:
                effective = []
            continue
        (effective if effective is not None else buf).append(line)
    if effective is None:
        flush()
    return files, None if effective is None else "\n".join(effective)


def tokens(text):
    """Words (str) and the punctuation ';', '{', '}' (as 1-tuples) of configuration text."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            yield (c,)
            i += 1
        else:
            quote = c if c in "'\"" else None
            i += 1 if quote else 0
            word = []
            while i < n:
                c = text[i]
                if c == "\\" and i + 1 < n:
                    word.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
                    i += 2
                    continue
                if (quote and c == quote) or (not quote and c in " \t\r\n;{"):
                    i += 1 if quote else 0
                    break
                word.append(c)
                i += 1
            yield "".join(word)


def parse(text):
    """Configuration text -> list of Directive (blocks nested)."""
    stack, words = [[]], []
    for tok in tokens(text):
        if isinstance(tok, str):
            words.append(tok)
        elif tok == (";",):
            if words:
                stack[-1].append(Directive(words[0], words[1:]))
            words = []
        elif tok == ("{",):
            d = Directive(words[0] if words else "", words[1:], [])
            stack[-1].append(d)
            stack.append(d.block)
            words = []
        elif len(stack) > 1:
            stack.pop()
    return stack[0]


def find(tree, *names):
    """Blocks reached through nested block directives: find(tree, "tcp", "server")."""
    blocks = [tree]
    for name in names:
        blocks = [d.block for b in blocks for d in b if d.name == name and d.block is not None]
    return blocks


def args_of(block, name):
    """Argument lists of every `name` directive directly in block."""
    return [d.args for d in block if d.name == name]


def parse_size(text):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", text)
    if not m:
        raise ValueError("not a size: %r" % text)
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]


_TIME_UNITS = [("y", 365 * 86400000), ("M", 30 * 86400000), ("w", 7 * 86400000),
               ("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)]


def parse_time(text):
    """Milliseconds; units in decreasing order, each at most once, a bare last number = s."""
    total, rank, pos = 0, -1, 0
    for m in re.finditer(r"(\d+)(ms|[yMwdhms]?)", text):
        if m.start() != pos:
            break
        unit = m.group(2) or "s"
        if not m.group(2) and m.end() != len(text):
            raise ValueError("not a time: %r" % text)
        index = [u for u, _ in _TIME_UNITS].index(unit)
        if index <= rank:
            raise ValueError("not a time: %r" % text)
        rank, pos = index, m.end()
        total += int(m.group(1)) * _TIME_UNITS[index][1]
    if pos != len(text) or not text:
        raise ValueError("not a time: %r" % text)
    return total
