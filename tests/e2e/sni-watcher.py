#!/usr/bin/env python3
"""A minimal StatusNotifierWatcher (the service a desktop panel runs), for the e2e tests.

It owns org.kde.StatusNotifierWatcher on the session bus, says a host is present, and prints
one JSON line per RegisterStatusNotifierItem call: the caller and the item's service, then the
item's properties (Id, Title, Status, Category) and the labels of its menu, read over
com.canonical.dbusmenu as a panel would. Prints {"ready": true} once the name is owned. A line
"describe" on stdin describes every registered item again (the menu as it is now), "click ID"
clicks a menu entry as a panel would; the end of stdin ends the watcher.
"""

import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"


def say(obj):
    print(json.dumps(obj), flush=True)


def menu_labels(bus, service, path):
    """The menu's entries (label, enabled, id), depth-first, as the item's dbusmenu lays them
    out."""
    menu = bus.get_object(service, path)
    _, layout = menu.GetLayout(0, -1, dbus.Array([], signature="s"),
                               dbus_interface="com.canonical.dbusmenu")

    def walk(node, depth):
        ident, props, children = node
        out = []
        if depth > 0:
            kind = str(props.get("type", "standard"))
            label = "---" if kind == "separator" else str(props.get("label", ""))
            enabled = bool(props.get("enabled", True))
            out.append({"label": label, "enabled": enabled, "id": int(ident)})
        for child in children:
            out.extend(walk(child, depth + 1))
        return out

    return walk(layout, 0)


class Watcher(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, "/StatusNotifierWatcher")
        self.bus = bus
        self.items = []
        self.registered = []
        self.menus = {}

    def click(self, ident):
        """Clicks a menu entry as a panel does (com.canonical.dbusmenu Event "clicked")."""
        for (name, _), menu_path in self.menus.items():
            menu = self.bus.get_object(name, menu_path)
            menu.Event(dbus.Int32(ident), "clicked", dbus.Int32(0, variant_level=1),
                       dbus.UInt32(0), dbus_interface="com.canonical.dbusmenu")
            say({"clicked": ident})

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        # appindicator passes its object path; the bus name is the caller's.
        name, path = (sender, service) if service.startswith("/") else (service, "/StatusNotifierItem")
        self.items.append(f"{name}{path}")
        self.registered.append((name, path))
        self.StatusNotifierItemRegistered(f"{name}{path}")
        GLib.timeout_add(300, self.describe, name, path)

    def describe(self, name, path):
        entry = {"registered": True, "sender": name, "path": path}
        try:
            props = self.bus.get_object(name, path).GetAll(
                ITEM, dbus_interface="org.freedesktop.DBus.Properties")
            for key in ("Id", "Title", "Status", "Category"):
                if key in props:
                    entry[key.lower()] = str(props[key])
            if "Menu" in props:
                self.menus[(name, path)] = str(props["Menu"])
                entry["menu"] = menu_labels(self.bus, name, str(props["Menu"]))
        except dbus.DBusException as e:
            entry["error"] = str(e)
        say(entry)
        return False

    @dbus.service.method(WATCHER, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemRegistered(self, service):
        pass

    @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        return self.GetAll(interface)[prop]

    @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    watcher = Watcher(bus)
    name = dbus.service.BusName(WATCHER, bus, do_not_queue=True)
    say({"ready": True})
    loop = GLib.MainLoop()
    def on_stdin(source, condition):
        line = sys.stdin.readline()
        if not line:
            loop.quit()
            return False
        words = line.split()
        if words == ["describe"]:
            for name, path in watcher.registered:
                watcher.describe(name, path)
        elif len(words) == 2 and words[0] == "click":
            watcher.click(int(words[1]))
        return True

    GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP, on_stdin)
    loop.run()
    del name, watcher


if __name__ == "__main__":
    main()
