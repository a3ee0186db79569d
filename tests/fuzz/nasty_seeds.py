"""Write the nasty inputs every fuzz run starts from into a corpus directory: as large and as
deep as the target's bound (tests/fuzz/max_len) allows. Deep nesting, huge counts, long runs of
one byte, invalid UTF-8 and NULs, for every target; each target's own kinds of text besides.
    nasty_seeds.py TARGET MAX_LEN CORPUS_DIR"""

import os
import sys


def fit(data, n):
    return data[:n]


def repeat(piece, n):
    return (piece * (n // max(len(piece), 1) + 1))[:n]


def generic(n):
    yield "deep-brackets", repeat(b"[", n)
    yield "deep-braces", repeat(b'{"a":', n)
    yield "deep-parens", repeat(b"(", n)
    yield "nested-balanced", repeat(b"[", n // 2) + repeat(b"]", n // 2)
    yield "many-items", b"[" + repeat(b"1,", n - 3) + b"1]"
    yield "many-keys", b"{" + b",".join(b'"k%d":1' % i for i in range(n // 12)) + b"}"
    yield "long-string", b'"' + repeat(b"a", n - 2) + b'"'
    yield "nuls", repeat(b"\0", n)
    yield "nul-middle", fit(b'{"a": "x\0y"}' + repeat(b" ", n), n)
    yield "invalid-utf8", repeat(b"\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", n)
    yield "cut-utf8", repeat(b"\xe2\x82", n)
    yield "escapes", repeat(b"\\u0000\\ud800\\", n)
    yield "quotes", repeat(b'"', n)
    yield "percent", repeat(b"%00%2F%zz%", n)
    yield "slashes", b"/" + repeat(b"/a", n - 1)
    yield "dots", b"/" + repeat(b"../", n - 1)
    yield "stars", repeat(b"*a", n)
    yield "newlines", repeat(b"\r\n", n)
    yield "spaces", repeat(b" ", n)
    yield "digits", repeat(b"9", n)


SPECIFIC = {
    "fuzz_res_filter": lambda n: [
        ("terms", repeat(b"-result:pass ", n)),
        ("dates", repeat(b"date:2024-01-01..2024-02-01 ", n)),
        ("globs", b"testcase:" + repeat(b"*a", n - 9)),
        ("quoted", repeat(b'category:"soak x" ', n)),
    ],
    "fuzz_resv_message": lambda n: [
        ("markdown", repeat(b"> * [x](javascript:alert(1)) **<script>** `", n)),
        ("links", repeat(b"[a](", n)),
        ("emphasis", repeat(b"*_", n)),
    ],
    "fuzz_ini": lambda n: [
        ("sections", repeat(b"[s]\n", n)),
        ("keys", b"[test_pack]\n" + repeat(b"k = v\n", n - 12)),
        ("continuations", b"[a]\nk = v\n" + repeat(b" more\n", n - 10)),
    ],
    "fuzz_lircd_conf": lambda n: [
        ("remotes", repeat(b"begin remote\n name r\n begin codes\n KEY_OK 0x1\n", n)),
        ("codes", b"begin remote\nname vstb\nbegin codes\n" + repeat(b"KEY_A 0x1\n", n - 40)),
    ],
    "fuzz_python_scan": lambda n: [
        ("defs", repeat(b"def test_x():\n    pass\n", n)),
        ("strings", repeat(b'"""', n)),
        ("indent", repeat(b"    ", n)),
        ("classes", repeat(b"class A:\n  def test_a(self): pass\n", n)),
    ],
    "fuzz_lirc": lambda n: [
        ("replies", repeat(b"BEGIN\nSEND_ONCE vstb KEY_OK\nSUCCESS\nEND\n", n)),
        ("data", b"BEGIN\nLIST\nSUCCESS\nDATA\n999999999\n" + repeat(b"x\n", n - 40)),
    ],
    "fuzz_stbt_log": lambda n: [
        ("lines", repeat(b"2015-06-18T14:59:00.321421+00:00 text\n", n)),
        ("long-line", b"2015-06-18T14:59:00.321421+00:00 " + repeat(b"a", n - 34)),
    ],
    "fuzz_auth_header": lambda n: [("token", b"token " + repeat(b"A", n - 6))],
    "fuzz_path": lambda n: [("segments", repeat(b"/x", n)), ("params", repeat(b"/%41", n))],
}


def main():
    target, n, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(folder, exist_ok=True)
    seeds = list(generic(n)) + list(SPECIFIC.get(target, lambda n: [])(n))
    for name, data in seeds:
        with open(os.path.join(folder, "nasty-" + name), "wb") as f:
            f.write(fit(data, n))


if __name__ == "__main__":
    main()
