#!/usr/bin/env python3
"""memsearch.py: does a process's memory hold any of a private key's secrets?

    memsearch.py PID KEYFILE...

For each PEM private key (RSA: private exponent and primes; EC: the private
scalar) it searches every readable mapping of /proc/PID/mem for a 24-byte
window from the middle of each secret, in big-endian order (DER, PEM decoded)
and in little-endian order (OpenSSL's BIGNUM limbs), and for the key file's
base64 lines. Prints one line per hit; exits 1 when anything was found, 0
when nothing was, 2 when the memory could not be read at all.
"""
import re
import subprocess
import sys


def secrets(path):
    text = subprocess.run(['openssl', 'pkey', '-in', path, '-noout', '-text'],
                          capture_output=True, text=True, check=True).stdout
    found, name, hexdigits = [], None, ''
    for line in text.splitlines() + ['end:']:
        m = re.match(r'^(\w+):\s*$', line)
        if m or re.match(r'^\S', line):
            if name in ('privateExponent', 'prime1', 'prime2', 'priv') and hexdigits:
                raw = bytes.fromhex(hexdigits).lstrip(b'\0')
                mid = len(raw) // 2
                window = raw[mid - 12:mid + 12]
                found.append((name, window))
                found.append((name + '(le)', bytes(reversed(raw))[mid - 12:mid + 12]))
            name, hexdigits = (m.group(1) if m else None), ''
        elif name:
            hexdigits += line.strip().replace(':', '')
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip() and not l.startswith('-----')]
    if len(lines) > 2:
        found.append(('pem', lines[1].encode()))
    return found


def regions(pid):
    with open(f'/proc/{pid}/maps') as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split('-'))
            name = parts[5] if len(parts) > 5 else ''
            if parts[1][0] == 'r' and name not in ('[vvar]', '[vsyscall]'):
                yield lo, hi, name


CHUNK = 16 << 20
HUGE = 1 << 32   # sanitizers' shadow reservations: terabytes of nothing


def chunks(mem, lo, hi):
    """The region in 16 MiB pieces overlapping by a window's length."""
    at = lo
    while at < hi:
        try:
            mem.seek(at)
            data = mem.read(min(CHUNK + 64, hi - at))
        except (OSError, OverflowError):
            return
        yield at, data
        at += CHUNK


def main():
    pid, keys = sys.argv[1], sys.argv[2:]
    needles = [(k, n, w) for k in keys for n, w in secrets(k)]
    hits = readable = skipped = 0
    with open(f'/proc/{pid}/mem', 'rb', 0) as mem:
        for lo, hi, name in regions(pid):
            if hi - lo > HUGE:
                skipped += 1
                continue
            for at, data in chunks(mem, lo, hi):
                readable += min(len(data), CHUNK)
                for key, what, window in needles:
                    found = data.find(window)
                    if found >= 0:
                        hits += 1
                        print(f'{key}: {what} at {at + found:#x} in {name or "anonymous"}')
    print(f'searched {readable} bytes for {len(needles)} secrets'
          f'{f" ({skipped} regions over 4 GiB skipped)" if skipped else ""}')
    if readable == 0:
        sys.exit(2)
    sys.exit(1 if hits else 0)


main()
