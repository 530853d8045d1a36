"""Who can be reached now: what kind of device a registration comes from."""

from __future__ import annotations

import re

from workflow.ports import DeviceKind

#: Transports only browsers use (SIP over WebSocket, RFC 7118).
WEB_TRANSPORTS = frozenset({"ws", "wss"})

#: Softphone apps, as their User-Agent names them (matched as words, case ignored).
APPS = ("Linphone", "Zoiper", "Bria", "Groundwire", "Acrobits", "MicroSIP", "baresip",
        "CSipSimple", "Sipnetic", "GS Wave", "Grandstream Wave", "Wave Lite", "Jitsi",
        "Blink", "X-Lite", "eyeBeam", "PortSIP", "Sipdroid", "Onesip", "Counterpath",
        "Cloud Softphone", "3CXPhone", "3CX Phone", "Ekiga", "PJSUA", "Twinkle")
#: Apps whose name may be glued to a longer word: Linphone's console app sends
#: "Linphonec/5.1.65", its mobile apps "LinphoneAndroid/..." and the like.
APP_PREFIXES = ("Linphone",)
#: Web clients that may also reach us over a plain transport through a gateway.
WEB_CLIENTS = ("JsSIP", "SIP.js", "SIPML5", "sipjs", "WebRTC")
#: Desk phone makers and models, as their User-Agent names them.
DESK_PHONES = ("Yealink", "Grandstream", "Fanvil", "Cisco", "Polycom", "Poly", "PolycomVVX",
               "Snom", "Htek", "Gigaset", "Panasonic", "Avaya", "Mitel", "Aastra", "Alcatel",
               "Escene", "Akuvox", "Flyingvoice", "Obihai", "Linksys", "Spectralink")


def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """Any of `names` as a whole word (so "Poly" does not match "Polygon")."""
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z])", re.IGNORECASE)


_WEB = _pattern(WEB_CLIENTS)
# Grandstream's own "Wave" app and Yealink's softclient name their maker: apps are tried
# before desk phones so they are not taken for the maker's desk phones.
_APP = _pattern(APPS)
_APP_PREFIX = re.compile(rf"(?<![A-Za-z0-9])(?:{'|'.join(map(re.escape, APP_PREFIXES))})",
                         re.IGNORECASE)
#: Zoiper 5 names itself only "Z" and its version.
_ZOIPER = re.compile(r"^Z \d")
_DESK = _pattern(DESK_PHONES)


def device_kind(user_agent: str, transport: str) -> DeviceKind:
    """The kind of device behind a registration, from its transport and User-Agent.

    A WebSocket transport is a browser whatever it calls itself; otherwise the User-Agent
    names the app or the maker; anything else is unknown rather than guessed.
    """
    if transport.lower() in WEB_TRANSPORTS or _WEB.search(user_agent):
        return DeviceKind.WEB
    if _APP.search(user_agent) or _APP_PREFIX.search(user_agent) or _ZOIPER.match(user_agent):
        return DeviceKind.APP
    if _DESK.search(user_agent):
        return DeviceKind.DESK_PHONE
    return DeviceKind.UNKNOWN
