#!/usr/bin/env python3
"""random-mime.py DIR N SEED: N random pathological MIME messages DIR/random-NN.msg
(many parts, deep nesting, attached messages, many or long part header fields, big base64
HTML, -- lines in text), each at most 8 MB: for tests/ingest/60-mime-limits.t."""
import base64
import random
import sys


class Msg:
    """The message being written, with a byte budget no append goes beyond."""

    def __init__(self, budget):
        self.out, self.left = [], budget

    def put(self, s):
        s = s[: max(self.left, 0)]
        self.out.append(s)
        self.left -= len(s)
        return self.left > 0


def entity(rnd, m, depth):
    k = rnd.random()
    if depth < 40 and k < 0.5:
        b = "b%d" % rnd.randrange(1 << 20)
        m.put(rnd.choice([f'Content-Type: multipart/mixed; boundary="{b}"\n',
                          f"Content-Type: multipart/alternative;\n boundary={b}\n"]))
        for i in range(rnd.choice([0, 1, 5, 3000, 20000])):
            if not m.put(f"X-P{i}: {'v' * rnd.randrange(1, 200)}\n"):
                break
        m.put("\n")
        n = rnd.choice([1, 2, 5, 50, 2000, 200000])
        if n > 50:
            m.put(f"--{b}\n\n" * min(n, max(m.left, 0) // (len(b) + 4)))
        else:
            for _ in range(n):
                if not m.put(f"--{b}\n"):
                    break
                entity(rnd, m, depth + 1)
        m.put(f"--{b}--\n")
    elif depth < 40 and k < 0.6:
        m.put("Content-Type: message/rfc822\n\nFrom: x@y.test\n")
        entity(rnd, m, depth + 1)
    elif k < 0.8:
        size = min(rnd.choice([10, 1000, 100000, 3000000]), max(m.left, 0) * 3 // 4)
        html = ("<img src='http://t.test/%d'>" % rnd.randrange(100)) * (size // 30 + 1)
        m.put("Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n")
        m.put(base64.encodebytes(html[:size].encode()).decode())
    else:
        lines = min(rnd.randrange(1, 20000), max(m.left, 0) // 5)
        m.put("Content-Type: text/plain\n\n" + "-- x\n" * lines)


def main():
    out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    for i in range(n):
        m = Msg(rnd.choice([100000, 2000000, 8000000]))
        m.put("From: a@sender.test\nTo: x@accept.bouncy-sink.test\nSubject: random\n")
        entity(rnd, m, 1)
        with open(f"{out}/random-{i:02d}.msg", "w") as f:
            f.write("".join(m.out))


main()
