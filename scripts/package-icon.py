#!/usr/bin/env python3
"""Draws src/VizHtml/icon.png, the NuGet package's icon (128x128): a browser window with a live trace in it.

Standard library only (zlib for the PNG). Run it again after changing the drawing: python3 scripts/package-icon.py
"""
import math
import os
import struct
import zlib

SIZE, SCALE = 128, 4  # drawn at 4x, then averaged down for smooth edges
N = SIZE * SCALE
BACKGROUND = (24, 92, 122)
WINDOW = (255, 255, 255)
BAR = (214, 226, 232)
TRACE = (242, 140, 40)


def rounded_rect(x, y, left, top, right, bottom, radius):
    if not (left <= x < right and top <= y < bottom):
        return False
    cx = min(max(x, left + radius), right - radius)
    cy = min(max(y, top + radius), bottom - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2


def color(x, y):
    u, v = x / SCALE, y / SCALE
    if not rounded_rect(u, v, 0, 0, 128, 128, 22):
        return None
    c = BACKGROUND
    if rounded_rect(u, v, 16, 24, 112, 104, 8):
        c = BAR if v < 38 else WINDOW
        for dot in (24, 33, 42):
            if (u - dot) ** 2 + (v - 31) ** 2 <= 9:
                c = BACKGROUND
        if 22 <= u <= 106 and v >= 40:
            # A pose streaming in: a damped wave, 4 px thick.
            t = (u - 22) / 84
            wave = 72 + 20 * math.sin(t * 3 * math.pi) * (1 - 0.6 * t)
            if abs(v - wave) <= 3.2:
                c = TRACE
    return c


rows = []
for py in range(SIZE):
    row = bytearray([0])  # filter: none
    for px in range(SIZE):
        r = g = b = a = 0
        for sy in range(SCALE):
            for sx in range(SCALE):
                c = color(px * SCALE + sx, py * SCALE + sy)
                if c is not None:
                    r, g, b, a = r + c[0], g + c[1], b + c[2], a + 1
        n = SCALE * SCALE
        row += bytes((r // a, g // a, b // a, 255 * a // n) if a else (0, 0, 0, 0))
    rows.append(bytes(row))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "VizHtml", "icon.png")
with open(out, "wb") as f:
    f.write(png)
print(f"{os.path.normpath(out)}: {len(png)} bytes")
