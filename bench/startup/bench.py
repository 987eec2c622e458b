#!/usr/bin/env python3
"""Cold start to first paint and resident memory: TokenDesk against a bare Tauri 2 window.

Run through run.sh (which builds both, starts Xvfb and a private keyring). Each run spawns one
binary, polls the X display from outside the process until the window shows non-uniform pixels,
waits a settle period, sums RSS and PSS (and counts the distinct resident pages) over the
process tree, and kills the tree. Only the standard library, libX11 and libXext (through
ctypes) are used. See README.md.
"""

import argparse
import array
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

# ---------------------------------------------------------------------------------------------
# Xlib through ctypes: just enough to list top-level windows and read their pixels.

Window = ctypes.c_ulong


class XWindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int), ("y", ctypes.c_int),
        ("width", ctypes.c_int), ("height", ctypes.c_int),
        ("border_width", ctypes.c_int), ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p), ("root", Window),
        ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int), ("win_gravity", ctypes.c_int),
        ("backing_store", ctypes.c_int), ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong), ("map_installed", ctypes.c_int),
        ("map_state", ctypes.c_int), ("all_event_masks", ctypes.c_long),
        ("your_event_mask", ctypes.c_long), ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int), ("screen", ctypes.c_void_p),
    ]


class XImage(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int),
        ("bitmap_pad", ctypes.c_int), ("depth", ctypes.c_int),
        ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int),
        ("red_mask", ctypes.c_ulong), ("green_mask", ctypes.c_ulong),
        ("blue_mask", ctypes.c_ulong),
        # obdata and the function table follow; never touched here.
    ]


class XShmSegmentInfo(ctypes.Structure):
    _fields_ = [("shmseg", ctypes.c_ulong), ("shmid", ctypes.c_int),
                ("shmaddr", ctypes.c_void_p), ("readOnly", ctypes.c_int)]


IS_VIEWABLE = 2
Z_PIXMAP = 2
ALL_PLANES = ctypes.c_ulong(0xFFFFFFFF)
ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


class Display:
    """A connection to the X server with the calls the poller needs."""

    def __init__(self):
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultRootWindow.restype = Window
        x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x11.XQueryTree.argtypes = [ctypes.c_void_p, Window, ctypes.POINTER(Window),
                                   ctypes.POINTER(Window), ctypes.POINTER(ctypes.POINTER(Window)),
                                   ctypes.POINTER(ctypes.c_uint)]
        x11.XGetWindowAttributes.argtypes = [ctypes.c_void_p, Window,
                                             ctypes.POINTER(XWindowAttributes)]
        x11.XGetImage.restype = ctypes.POINTER(XImage)
        x11.XGetImage.argtypes = [ctypes.c_void_p, Window, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        x11.XDestroyImage.argtypes = [ctypes.POINTER(XImage)]
        x11.XFree.argtypes = [ctypes.c_void_p]
        x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.x11 = x11
        self.dpy = x11.XOpenDisplay(None)
        if not self.dpy:
            sys.exit("bench: cannot open the X display (DISPLAY=%s)" % os.environ.get("DISPLAY"))
        # Windows come and go under us (BadWindow, BadMatch): ignore errors instead of the
        # default handler, which exits the process.
        self._errors = 0

        def on_error(_dpy, _event):
            self._errors += 1
            return 0

        self._handler = ERROR_HANDLER(on_error)
        x11.XSetErrorHandler(self._handler)
        self.root = x11.XDefaultRootWindow(self.dpy)
        self._shm = None
        self._shm_ok = self._setup_shm()

    def _setup_shm(self):
        """MIT-SHM: the server writes frames into shared memory (~1 ms a frame, not ~7 ms
        through the socket), so polling takes little CPU away from the app being measured."""
        try:
            xext = ctypes.CDLL(ctypes.util.find_library("Xext") or "libXext.so.6")
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        except OSError:
            return False
        xext.XShmQueryExtension.argtypes = [ctypes.c_void_p]
        xext.XShmCreateImage.restype = ctypes.POINTER(XImage)
        xext.XShmCreateImage.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint,
                                         ctypes.c_int, ctypes.c_void_p,
                                         ctypes.POINTER(XShmSegmentInfo), ctypes.c_uint,
                                         ctypes.c_uint]
        xext.XShmAttach.argtypes = [ctypes.c_void_p, ctypes.POINTER(XShmSegmentInfo)]
        xext.XShmDetach.argtypes = [ctypes.c_void_p, ctypes.POINTER(XShmSegmentInfo)]
        xext.XShmGetImage.argtypes = [ctypes.c_void_p, Window, ctypes.POINTER(XImage),
                                      ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
        libc.shmget.restype = ctypes.c_int
        libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
        libc.shmat.restype = ctypes.c_void_p
        libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        libc.shmdt.argtypes = [ctypes.c_void_p]
        libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        self.x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
        self.x11.XDefaultVisual.restype = ctypes.c_void_p
        self.x11.XDefaultVisual.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.x11.XDefaultDepth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        if not xext.XShmQueryExtension(self.dpy):
            return False
        self.xext, self.libc = xext, libc
        return True

    def _shm_image(self, w, h):
        if self._shm and self._shm[0] == (w, h):
            return self._shm
        self._drop_shm()
        screen = self.x11.XDefaultScreen(self.dpy)
        info = XShmSegmentInfo()
        img = self.xext.XShmCreateImage(self.dpy, self.x11.XDefaultVisual(self.dpy, screen),
                                        self.x11.XDefaultDepth(self.dpy, screen), Z_PIXMAP,
                                        None, ctypes.byref(info), w, h)
        if not img:
            return None
        size = img.contents.bytes_per_line * img.contents.height
        info.shmid = self.libc.shmget(0, size, 0o1000 | 0o600)  # IPC_PRIVATE, IPC_CREAT
        if info.shmid < 0:
            self.x11.XDestroyImage(img)
            return None
        info.shmaddr = self.libc.shmat(info.shmid, None, 0)
        img.contents.data = info.shmaddr
        info.readOnly = 0
        before = self._errors
        self.xext.XShmAttach(self.dpy, ctypes.byref(info))
        self.x11.XSync(self.dpy, 0)
        self.libc.shmctl(info.shmid, 0, None)  # IPC_RMID: freed once both sides detach
        if self._errors != before:
            return None
        self._shm = ((w, h), img, info, size)
        return self._shm

    def _drop_shm(self):
        if self._shm:
            _, img, info, _ = self._shm
            self.xext.XShmDetach(self.dpy, ctypes.byref(info))
            self.x11.XSync(self.dpy, 0)
            addr = info.shmaddr
            img.contents.data = None
            self.x11.XDestroyImage(img)
            self.libc.shmdt(addr)
            self._shm = None

    def grab_screen(self, x, y, w, h):
        """What the display shows in that rectangle (no compositor: the window's pixels), as
        (bytes, bytes_per_line, layout), or None on an X error."""
        if self._shm_ok:
            shm = self._shm_image(w, h)
            if shm is None:
                self._shm_ok = False
            else:
                _, img, info, size = shm
                before = self._errors
                ok = self.xext.XShmGetImage(self.dpy, self.root, img, x, y, ALL_PLANES.value)
                if not ok or self._errors != before:
                    return None
                im = img.contents
                layout = (im.byte_order, im.red_mask, im.green_mask, im.blue_mask)
                return ctypes.string_at(info.shmaddr, size), im.bytes_per_line, layout
        return self.grab(self.root, w, h, x, y)

    def viewable_windows(self, min_w=600, min_h=400):
        """Top-level windows that are mapped and at least min_w x min_h: [(id, x, y, w, h)]."""
        root_ret, parent_ret = Window(), Window()
        children = ctypes.POINTER(Window)()
        n = ctypes.c_uint()
        if not self.x11.XQueryTree(self.dpy, self.root, ctypes.byref(root_ret),
                                   ctypes.byref(parent_ret), ctypes.byref(children),
                                   ctypes.byref(n)):
            return []
        ids = [children[i] for i in range(n.value)]
        if children:
            self.x11.XFree(children)
        found = []
        for wid in ids:
            attrs = XWindowAttributes()
            before = self._errors
            ok = self.x11.XGetWindowAttributes(self.dpy, wid, ctypes.byref(attrs))
            if not ok or self._errors != before:
                continue
            if attrs.map_state == IS_VIEWABLE and attrs.width >= min_w and attrs.height >= min_h:
                found.append((wid, attrs.x, attrs.y, attrs.width, attrs.height))
        return found

    def grab(self, wid, w, h, x=0, y=0):
        """A drawable's pixels as (bytes, bytes_per_line, layout) or None if it went away."""
        before = self._errors
        img = self.x11.XGetImage(self.dpy, wid, x, y, w, h, ALL_PLANES, Z_PIXMAP)
        if not img or self._errors != before:
            if img:
                self.x11.XDestroyImage(img)
            return None
        im = img.contents
        if im.bits_per_pixel != 32:
            self.x11.XDestroyImage(img)
            sys.exit("bench: expected a 24/32-bit visual, got %d bpp" % im.bits_per_pixel)
        data = ctypes.string_at(im.data, im.bytes_per_line * im.height)
        layout = (im.byte_order, im.red_mask, im.green_mask, im.blue_mask)
        bpl = im.bytes_per_line
        self.x11.XDestroyImage(img)
        return data, bpl, layout


def channel_offsets(layout):
    """Byte offsets of R, G, B inside a 32-bit pixel."""
    byte_order, red, green, blue = layout
    offs = []
    for mask in (red, green, blue):
        shift = (mask & -mask).bit_length() - 1
        idx = shift // 8
        offs.append(idx if byte_order == 0 else 3 - idx)  # 0 = LSBFirst
    return offs


_PATTERNS = {}


def is_uniform(data, layout):
    """True when every pixel has the same colour (the padding byte is ignored)."""
    key = (data[:4], len(data))
    pattern = _PATTERNS.get(key)
    if pattern is None:
        _PATTERNS.clear()
        pattern = _PATTERNS[key] = data[:4] * (len(data) // 4)
    if data == pattern:  # one memcmp: the common case while waiting
        return True
    for off in channel_offsets(layout):
        plane = data[off::4]
        if plane.count(plane[0]) != len(plane):
            return False
    return True


def distinct_colours(data, layout, limit=64):
    """How many colours a frame has (capped), from a sample of pixels: for the report."""
    r, g, b = channel_offsets(layout)
    seen = set()
    for i in range(0, len(data), 4 * 97):
        seen.add((data[i + r], data[i + g], data[i + b]))
        if len(seen) >= limit:
            break
    return len(seen)


def write_png(path, data, bpl, w, h, layout):
    """A plain RGB PNG from a 32-bit X image (standard library only)."""
    r, g, b = channel_offsets(layout)
    rows = []
    for y in range(h):
        row = data[y * bpl:y * bpl + 4 * w]
        rgb = bytearray(3 * w)
        rgb[0::3] = row[r::4]
        rgb[1::3] = row[g::4]
        rgb[2::3] = row[b::4]
        rows.append(b"\x00" + bytes(rgb))
    raw = zlib.compress(b"".join(rows), 6)

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", raw))
        f.write(chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------------
# Process tree and memory.

CLK_TCK = os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: parse after the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append(int(entry))
    return kids


def process_tree(pid):
    kids = children_map()
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(kids.get(p, []))
    return tree


def read_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


PAGE = os.sysconf("SC_PAGE_SIZE")
PFN_MASK = (1 << 55) - 1


def resident_pfns(pid):
    """The physical frames a process has resident (needs root; empty without it). Only
    mappings with resident pages are read: WebKit reserves tens of GB it never touches."""
    ranges = []
    try:
        with open("/proc/%d/smaps" % pid) as f:
            current = None
            for line in f:
                head = line.split(None, 1)[0]
                if "-" in head and not head.endswith(":"):
                    lo, hi = head.split("-")
                    current = (int(lo, 16), int(hi, 16))
                elif head == "Rss:" and current and int(line.split()[1]) > 0:
                    ranges.append(current)
    except OSError:
        return set()
    pfns = set()
    try:
        with open("/proc/%d/pagemap" % pid, "rb") as f:
            for lo, hi in ranges:
                f.seek(lo // PAGE * 8)
                entries = array.array("Q")
                entries.frombytes(f.read((hi - lo) // PAGE * 8))
                pfns.update(e & PFN_MASK for e in entries if e >> 63)
    except OSError:
        return set()
    pfns.discard(0)  # no CAP_SYS_ADMIN: the kernel hides frame numbers
    return pfns


def memory(pid):
    """RSS and PSS (kB) summed over pid and all its descendants, with a per-process list."""
    procs = []
    for p in process_tree(pid):
        fields = {}
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                        fields[parts[0][:-1]] = int(parts[1])
        except OSError:
            continue
        if "Rss" not in fields:  # a zombie or a kernel thread
            continue
        procs.append({"pid": p, "comm": read_comm(p), "rss_kb": fields["Rss"],
                      "pss_kb": fields.get("Pss", 0),
                      "pss_anon_kb": fields.get("Pss_Anon", 0),
                      "pss_file_kb": fields.get("Pss_File", 0)})
    out = {"rss_kb": sum(p["rss_kb"] for p in procs),
           "pss_kb": sum(p["pss_kb"] for p in procs),
           "processes": procs}
    # The tree's footprint: distinct physical pages resident in any of its processes. Unlike
    # PSS it does not depend on what else runs on the machine (another WebKit app shares
    # libwebkit2gtk's pages and lowers this tree's PSS); unlike summed RSS it counts a page
    # shared inside the tree once.
    frames = set()
    for p in procs:
        frames |= resident_pfns(p["pid"])
    if frames:
        out["footprint_kb"] = len(frames) * PAGE // 1024
    return out


def cpu_times(pid):
    """CPU time (user + system, ms) each process of the tree has used so far: {comm: ms}."""
    out = {}
    for p in process_tree(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        ms = (int(fields[11]) + int(fields[12])) * 1000 // CLK_TCK
        name = read_comm(p)
        out[name] = out.get(name, 0) + ms
    return out


def kill_tree(proc, grace=2.0):
    """SIGTERM, then SIGKILL if needed, to the process, every descendant and its session."""
    pids = process_tree(proc.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()  # reap the direct child so it does not stay a zombie
            if all(is_zombie(p) for p in pids):
                break
            time.sleep(0.02)
        if all(is_zombie(p) for p in pids):
            break
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def is_zombie(pid):
    """True when the process is gone or only a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return stat[stat.rfind(")") + 2] == "Z"
    except OSError:
        return True


# ---------------------------------------------------------------------------------------------
# One run.

NCPU = os.cpu_count() or 1


def cpu_busy_jiffies():
    """Machine-wide busy CPU time (jiffies, all cores) from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle


def machine_busy(window=0.5):
    """Fraction of all cores busy over a short window."""
    a = cpu_busy_jiffies()
    time.sleep(window)
    return (cpu_busy_jiffies() - a) / (window * CLK_TCK * NCPU)


def wait_for_quiet(args):
    """Other work on the machine (builds, tests) distorts start-up times: wait, up to
    args.quiet_wait seconds, until the machine is mostly idle. Returns the last busy fraction."""
    deadline = time.monotonic() + args.quiet_wait
    busy = machine_busy()
    while busy > args.quiet_busy and time.monotonic() < deadline:
        busy = machine_busy(1.0)
    return busy


MARKER = "TOKENDESK_BENCH_STARTUP_RUN"


def ours_cpu_jiffies(tree_pid=None):
    """CPU time (jiffies) of the processes serving this benchmark: everything run.sh started
    (they carry its marker: Xvfb, the D-Bus session, the keyring, this poller, the measured
    tree), or without the marker just this poller and the tree."""
    value = os.environ.get(MARKER)
    needle = ("%s=%s" % (MARKER, value)).encode() if value else None
    pids = set(process_tree(tree_pid)) if tree_pid else set()
    pids.add(os.getpid())
    if needle:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/environ" % entry, "rb") as f:
                        if needle in f.read().split(b"\0"):
                            pids.add(int(entry))
                except OSError:
                    pass
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def one_run(dpy, variant, binary, extra_env, args, run_no, outdir):
    # The display must be empty, or an old window would be taken for this run's.
    deadline = time.monotonic() + 10
    while dpy.viewable_windows() and time.monotonic() < deadline:
        time.sleep(0.05)
    if dpy.viewable_windows():
        sys.exit("bench: a window from an earlier run is still on the display")
    busy_before = wait_for_quiet(args)

    scratch = tempfile.mkdtemp(prefix="tokendesk-bench-%s-" % variant.replace(" ", "-"))
    env = dict(os.environ)
    # Cold app data for every run: TokenDesk's home, and WebKit's and GTK's data, cache and
    # config directories (the same for the baseline). The graphics driver's shader cache lives
    # in XDG_CACHE_HOME too, so it is cold as well unless the variant keeps one (extra_env).
    env.update({
        "TOKENDESK_HOME": os.path.join(scratch, "home"),
        "XDG_DATA_HOME": os.path.join(scratch, "data"),
        "XDG_CACHE_HOME": os.path.join(scratch, "cache"),
        "XDG_CONFIG_HOME": os.path.join(scratch, "config"),
    })
    env.update(extra_env)
    log = open(os.path.join(scratch, "stderr.log"), "wb")

    busy0, ours0 = cpu_busy_jiffies(), ours_cpu_jiffies()
    t0 = time.monotonic()
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    result = {"variant": variant, "run": run_no, "machine_busy_before": busy_before}
    try:
        mapped_at = paint_at = None
        grabs = 0
        last_blank = None
        while True:
            now = time.monotonic()
            if now - t0 > args.timeout:
                result["error"] = "no paint within %.0f s" % args.timeout
                break
            if proc.poll() is not None:
                result["error"] = "exited with %s before painting" % proc.returncode
                break
            wins = dpy.viewable_windows()
            if wins:
                _wid, x, y, w, h = wins[0]
                if mapped_at is None:
                    mapped_at = time.monotonic() - t0
                    result["window"] = [w, h]
                shot = dpy.grab_screen(x, y, w, h)
                t_frame = time.monotonic() - t0
                if shot is not None:
                    grabs += 1
                    data, bpl, layout = shot
                    if is_uniform(data, layout):
                        last_blank = shot
                    else:
                        paint_at = t_frame
                        result["cpu_ms_at_paint"] = cpu_times(proc.pid)
                        # CPU the rest of the machine used meanwhile, in cores: work that
                        # competed with the start-up being measured.
                        spent = (cpu_busy_jiffies() - busy0) - (ours_cpu_jiffies(proc.pid) - ours0)
                        result["others_cores"] = max(0.0, spent / CLK_TCK / max(paint_at, 1e-3))
                        result["colours_in_frame"] = distinct_colours(data, layout)
                        if run_no <= args.save_frames:
                            path = os.path.join(outdir, "%s-run%d-first-paint.png" % (variant.replace(" ", "-"), run_no))
                            write_png(path, data, bpl, w, h, layout)
                            result["frame"] = path
                            if last_blank is not None:
                                bpath = os.path.join(outdir, "%s-run%d-last-blank.png" % (variant.replace(" ", "-"), run_no))
                                write_png(bpath, last_blank[0], last_blank[1], w, h, last_blank[2])
                                result["blank_frame"] = bpath
                        break
            # The poll cadence, measured from the start of this poll.
            sleep = args.interval - (time.monotonic() - now)
            if sleep > 0:
                time.sleep(sleep)
        result["mapped_s"] = mapped_at
        result["paint_s"] = paint_at
        result["grabs"] = grabs
        if paint_at is not None:
            # The settle period, still watching: the last frame that differs from the one before
            # is when the window *settled* (the page's scripts took over and drew their data).
            # A coarser poll than before the first paint, so it takes little CPU from the app.
            end = t0 + paint_at + args.settle
            previous, settled_at = None, paint_at
            while time.monotonic() < end and proc.poll() is None:
                now = time.monotonic()
                wins = dpy.viewable_windows()
                if wins:
                    _wid, x, y, w, h = wins[0]
                    shot = dpy.grab_screen(x, y, w, h)
                    t_frame = time.monotonic() - t0
                    if shot is not None:
                        if previous is not None and shot[0] != previous:
                            settled_at = t_frame
                        previous = shot[0]
                sleep = args.settle_interval - (time.monotonic() - now)
                if sleep > 0:
                    time.sleep(min(sleep, max(0.0, end - time.monotonic())))
            result["settled_s"] = settled_at
            if proc.poll() is not None:
                result["error"] = "exited with %s during the settle period" % proc.returncode
            else:
                mem = memory(proc.pid)
                result.update(mem)
    finally:
        kill_tree(proc)
        log.close()
        if result.get("error"):
            with open(os.path.join(scratch, "stderr.log"), "rb") as f:
                result["stderr_tail"] = f.read()[-2000:].decode("utf-8", "replace")
        shutil.rmtree(scratch, ignore_errors=True)
    return result


# ---------------------------------------------------------------------------------------------
# Report.

def fmt_ms(s):
    return "-" if s is None else "%.0f" % (s * 1000)


def fmt_mb(kb):
    return "%.1f" % (kb / 1024)


def summary(results, key):
    vals = [r[key] for r in results if r.get(key) is not None and not r.get("error")]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


# WebKitGTK's switch between Skia's CPU and GPU rasterizers. Both binaries set it to 1 on a
# machine without a GPU (src-tauri/src/rendering.rs) unless it is set already.
CPU_VAR = "WEBKIT_SKIA_ENABLE_CPU_RENDERING"
# Name prefix of the variants whose every run starts with an empty driver shader cache.
FIRST = "1st "
# Name prefix of the variants told to rasterize with Skia's GPU backend whatever the machine has.
GPU = "gpu "
# Informational pairs: each "<prefix>app" is compared with its own "<prefix>bare".
PAIRS = (FIRST, GPU)
# Name prefix of the variants of the other build (--before).
BEFORE = "old "
# The start variants the start target applies to (each against its own bare window).
START_TARGETS = ("app", "app+sandbox", FIRST + "app")


def baseline(name):
    """The variant a variant's ratios are taken against."""
    for prefix in PAIRS:
        if name.startswith(prefix):
            return prefix + "bare"
    return "bare"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--app", required=True, help="TokenDesk's release binary")
    ap.add_argument("--bare", required=True, help="the bare window's release binary")
    ap.add_argument("--bare-ui", help="diagnostic: the bare window serving the app's ui/dist")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--interval", type=float, default=0.010, help="poll cadence in seconds")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds after first paint")
    ap.add_argument("--settle-interval", type=float, default=0.02,
                    help="seconds between frames read after the first paint (the settled time)")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--sandbox", action="store_true",
                    help="also run the app with TOKENDESK_SANDBOX_PROFILES=1")
    ap.add_argument("--save-frames", type=int, default=1,
                    help="save the first-paint frame of the first N runs of each variant")
    ap.add_argument("--out", default="/tmp/tokendesk-bench-startup")
    ap.add_argument("--quiet-busy", type=float, default=0.15,
                    help="before each run, wait until at most this fraction of the CPUs is busy")
    ap.add_argument("--quiet-wait", type=float, default=30.0,
                    help="... but no longer than this many seconds (then run anyway)")
    ap.add_argument("--ratio", type=float, default=1.1,
                    help="start target: every start variant of the app <= ratio x bare")
    ap.add_argument("--memory-ratio", type=float, default=1.3,
                    help="memory target: app <= ratio x bare")
    ap.add_argument("--before", help="another build of the app (say, before a change), measured "
                    "in the same runs: variants '%sapp', '%sapp+sandbox', '%s%sapp'"
                    % (BEFORE, BEFORE, FIRST, BEFORE))
    ap.add_argument("--no-first-launch", dest="first_launch", action="store_false",
                    help="skip the pair that starts with an empty shader cache every run")
    ap.add_argument("--no-gpu-raster", dest="gpu_raster", action="store_false",
                    help="skip the pair forced to rasterize on the GPU (%s=0)" % CPU_VAR)
    args = ap.parse_args()
    # A TERM (run.sh's trap) unwinds like Ctrl-C, so the running app's tree is killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.makedirs(args.out, exist_ok=True)

    # The driver's shader cache. Under Xvfb, WebKit draws with Skia on Mesa's llvmpipe, which
    # compiles every shader with LLVM on the CPU and keeps the result in Mesa's on-disk cache
    # (as GPU drivers do). On a machine that has run an app before, that cache is warm, so the
    # main variants each keep their own cache dir across runs (filled by the warm-up run, never
    # shared between variants); the "first launch" pair starts every run with an empty one.
    cache_root = os.path.join(args.out, "shader-cache")
    shutil.rmtree(cache_root, ignore_errors=True)

    def warm(name, env=None):
        path = os.path.join(cache_root, name)
        os.makedirs(path)  # Mesa creates only the last level of the path itself
        return dict(env or {}, MESA_SHADER_CACHE_DIR=path)

    variants = [("app", args.app, warm("app")), ("bare", args.bare, warm("bare"))]
    if args.bare_ui:
        variants.append(("bare+ui", args.bare_ui, warm("bare+ui")))
    if args.sandbox:
        variants.append(("app+sandbox", args.app,
                         warm("app+sandbox", {"TOKENDESK_SANDBOX_PROFILES": "1"})))
    if args.before:
        variants.append((BEFORE + "app", args.before, warm(BEFORE + "app")))
        if args.sandbox:
            variants.append((BEFORE + "app+sandbox", args.before,
                             warm(BEFORE + "app+sandbox", {"TOKENDESK_SANDBOX_PROFILES": "1"})))
    if args.first_launch:
        variants += [(FIRST + "app", args.app, {}), (FIRST + "bare", args.bare, {})]
        if args.before:
            variants.append((FIRST + BEFORE + "app", args.before, {}))
    if args.gpu_raster:
        gpu = {CPU_VAR: "0"}
        variants += [(GPU + "app", args.app, warm(GPU + "app", gpu)),
                     (GPU + "bare", args.bare, warm(GPU + "bare", gpu))]
    # A warm-up run of each (not counted): the first exec of a binary pays for reading it and
    # its libraries from disk; every counted run then starts from the same warm disk cache.
    dpy = Display()
    for name, binary, env in variants:
        r = one_run(dpy, name + "-warmup", binary, env, args, 99, args.out)
        if r.get("error"):
            print("bench: warm-up of %s failed: %s\n%s" % (name, r["error"], r.get("stderr_tail", "")),
                  file=sys.stderr)
            return 2

    results = []
    for i in range(1, args.runs + 1):
        # Alternate the order, so neither side always runs right after the other.
        order = variants if i % 2 else list(reversed(variants))
        for name, binary, env in order:
            r = one_run(dpy, name, binary, env, args, i, args.out)
            results.append(r)
            status = r.get("error") or (
                "mapped %s ms, paint %s ms, settled %s ms, PSS %s MB, footprint %s MB, RSS %s MB, "
                "%d procs; machine busy before %.0f%%, others during start %.2f cores" % (
                    fmt_ms(r["mapped_s"]), fmt_ms(r["paint_s"]), fmt_ms(r.get("settled_s")),
                    fmt_mb(r["pss_kb"]),
                    fmt_mb(r.get("footprint_kb", 0)), fmt_mb(r["rss_kb"]), len(r["processes"]),
                    100 * r["machine_busy_before"],
                    r.get("others_cores", 0)))
            print("  run %d %-12s %s" % (i, name, status), file=sys.stderr, flush=True)

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)

    by = {name: [r for r in results if r["variant"] == name] for name, _, _ in variants}
    failed = [r for r in results if r.get("error")]
    columns = [("mapped_s", "window mapped ms", fmt_ms), ("paint_s", "first paint ms", fmt_ms),
               ("settled_s", "settled ms", fmt_ms),
               ("pss_kb", "PSS MB", fmt_mb), ("footprint_kb", "footprint MB", fmt_mb),
               ("rss_kb", "RSS MB", fmt_mb)]
    stats = {name: {k: summary(rs, k) for k, _, _ in columns} for name, rs in by.items()}

    print()
    print("TokenDesk start-up and memory vs a bare Tauri 2 window")
    print("(release builds; Xvfb 1400x900x24, software OpenGL; warm disk cache — OS caches are")
    print(" not dropped; cold app data — fresh TOKENDESK_HOME and XDG dirs per run; the driver's")
    print(" shader cache warm, as after any earlier start, except for the '%s' pair, which starts"
          % FIRST.strip())
    print(" every run with an empty one, as the very first launch after installing does; %d runs each,"
          % args.runs)
    print(" alternating; poll every %.0f ms; memory %.0f s after first paint, summed over the"
          % (args.interval * 1000, args.settle))
    print(" process and all its descendants)")
    rendering = {k: v for k, v in os.environ.items()
                 if k.startswith(("WEBKIT_", "LIBGL_", "GALLIUM_", "GDK_", "GSK_"))}
    gpu_node = any(n.startswith("renderD") for n in
                   (os.listdir("/dev/dri") if os.path.isdir("/dev/dri") else []))
    print("Rendering environment: %s" % (", ".join("%s=%s" % kv for kv in sorted(rendering.items()))
                                         or "no WEBKIT_/LIBGL_/GALLIUM_/GDK_/GSK_ variables set"))
    print("Rasterization: each binary's own choice (src-tauri/src/rendering.rs, compiled into both):")
    print(" %s" % ("%s is set, so both keep it" % CPU_VAR if CPU_VAR in rendering else
                   "a GPU render node exists, so both keep WebKit's default (Skia on the GPU)"
                   if gpu_node else
                   "no GPU render node here, so both rasterize with Skia on the CPU; the '%s' pair"
                   " is forced onto Skia's GPU backend (%s=0), i.e. Mesa's llvmpipe"
                   % (GPU.strip(), CPU_VAR)))
    print()
    row = "%-12s" + " %20s" * len(columns)
    print(row % ("", *(title for _, title, _ in columns)))
    print(row % ("", *(["median [min-max]"] * len(columns))))
    for name in by:
        cells = []
        for k, _, f in columns:
            v = stats[name][k]
            cells.append("-" if v is None else
                         "%s [%s-%s]" % (f(v["median"]), f(v["min"]), f(v["max"])))
        print(row % (name, *cells))
    print("Settled: the last frame that changed within %.0f s of the first paint (read every %.0f ms"
          % (args.settle, args.settle_interval * 1000))
    print("after it): the page's scripts and first data drawn. The sandbox variants keep changing")
    print("while the sandbox is set up.")
    print("PSS, footprint and RSS are summed over the process tree; footprint = distinct physical")
    print("pages resident in the tree (shared pages once, independent of other processes).")
    print()

    # How quiet the machine was: start-up times on 2 cores are only comparable when it was.
    others = [r["others_cores"] for r in results if r.get("others_cores") is not None]
    noisy = [r for r in results if r.get("machine_busy_before", 0) > args.quiet_busy]
    if others:
        print("Other load on the machine while the measured app started: median "
              "%.2f, max %.2f of %d cores; %d of %d runs started on a machine busier than %.0f%%%s"
              % (statistics.median(others), max(others), NCPU, len(noisy), len(results),
                 100 * args.quiet_busy,
                 " — start-up figures are distorted, run again on a quiet machine" if noisy or
                 statistics.median(others) > 0.25 else ""))
        print()

    # Processes in the tree, from the last successful run of each variant.
    for name, rs in by.items():
        ok = [r for r in rs if not r.get("error")]
        if not ok:
            continue
        procs = ok[-1]["processes"]
        print("%-12s processes: %s" % (name, ", ".join(
            "%s %s/%s MB" % (p["comm"], fmt_mb(p["pss_kb"]), fmt_mb(p["rss_kb"])) for p in procs)))
    print("             (PSS/RSS per process, last run)")
    for name, rs in by.items():
        ok = [r for r in rs if r.get("cpu_ms_at_paint")]
        if not ok:
            continue
        comms = sorted({c for r in ok for c in r["cpu_ms_at_paint"]})
        print("%-12s CPU used by first paint: %s" % (name, ", ".join(
            "%s %d ms" % (c, statistics.median(r["cpu_ms_at_paint"].get(c, 0) for r in ok))
            for c in comms)))
    print("             (user+system, median over runs; 2 cores)")
    print()

    # Targets: the app's medians within args.ratio x the bare window's.
    print("Targets: every start of TokenDesk (%s) within %.2fx of the bare window; memory of the "
          "default start within %.2fx; ratios of medians"
          % (", ".join(START_TARGETS), args.ratio, args.memory_ratio))
    for label, key in (("start (first paint)", "paint_s"), ("settled", "settled_s"),
                       ("memory (PSS, tree)", "pss_kb"),
                       ("memory (footprint)", "footprint_kb"), ("memory (RSS, tree)", "rss_kb")):
        target = args.ratio if key == "paint_s" else args.memory_ratio
        targeted = START_TARGETS if key == "paint_s" else ("app",)
        for name in [n for n in by if n != baseline(n)]:
            base = baseline(name)
            a, b = stats[name][key], stats[base][key]
            if a is None or b is None:
                print("  %-20s %-12s no data  MISS" % (label, name))
                continue
            ratio = a["median"] / b["median"]
            if name == "bare+ui" or key == "settled_s":
                tail = "   (diagnostic, no target)"
            elif name in targeted:
                tail = "  " + ("PASS" if ratio <= target else "MISS")
            else:
                tail = "   (informational)"
            print("  %-20s %-12s %5.2fx of %-9s%s" % (label, name, ratio, base, tail))
    print()

    if "bare+ui" in by:
        # Where the app's extra cost comes from: the web UI itself (the same bare shell serving
        # ui/dist) versus the Rust side (plugins, setup, commands answering the UI's first calls).
        print("Where the difference comes from (medians):")
        for label, key, f, unit in (("first paint", "paint_s", fmt_ms, "ms"),
                                    ("PSS", "pss_kb", fmt_mb, "MB"),
                                    ("footprint", "footprint_kb", fmt_mb, "MB")):
            a, u, b = (stats[n][key] for n in ("app", "bare+ui", "bare"))
            if None in (a, u, b):
                continue
            print("  %-12s app - bare = %s %s: web UI (bare+ui - bare) %s %s, "
                  "Rust side and IPC (app - bare+ui) %s %s" % (
                      label, f(a["median"] - b["median"]), unit,
                      f(u["median"] - b["median"]), unit, f(a["median"] - u["median"]), unit))
        print()
    if failed:
        print("%d run(s) failed:" % len(failed))
        for r in failed:
            print("  %s run %d: %s" % (r["variant"], r["run"], r["error"]))
    frames = [r.get("frame") for r in results if r.get("frame")]
    if frames:
        print("first-paint frames: " + ", ".join(frames))
    print("raw results: %s" % os.path.join(args.out, "results.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
