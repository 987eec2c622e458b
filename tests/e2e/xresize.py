#!/usr/bin/env python3
"""Resizes a top-level X11 window from outside, as a window manager would.

    xresize.py WINDOW_ID WIDTH HEIGHT

The end-to-end tests resize the app's window with this instead of WebDriver's window/rect, whose
window-state checks depend on a window manager that Xvfb does not have; from outside the resize is
what a user's drag produces. libX11 through ctypes, no packages.
"""
import ctypes
import sys

x11 = ctypes.CDLL("libX11.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XResizeWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_uint, ctypes.c_uint]
x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

if len(sys.argv) != 4:
    sys.exit(__doc__)
window, width, height = int(sys.argv[1], 0), int(sys.argv[2]), int(sys.argv[3])
dpy = x11.XOpenDisplay(None)
if not dpy:
    sys.exit("xresize: cannot open the X display (DISPLAY unset?)")
x11.XResizeWindow(dpy, window, width, height)
x11.XSync(dpy, 0)
x11.XCloseDisplay(dpy)
