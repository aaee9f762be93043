#!/usr/bin/env python3
"""Write bench/parse/corpus/*.sip: one SIP message per file, CRLF line ends,
Content-Length computed from the body.

The messages follow one basic call and one registration/presence exchange the
way real phones and proxies write them (RFC 3261 §24-style flows, RFC 3665
call flows, RFC 3856/3863 presence).  Edit the text here and re-run rather
than editing the .sip files: CRLFs and Content-Length are easy to break by hand.
Addresses are from the documentation ranges (RFC 5737); no traffic is sent.
"""
import os
import sys

CALLID = "3c26700c2e8a4d0f9a1b@192.0.2.101"
UA = "User-Agent: Linphone-Desktop/5.2.4 (belle-sip/5.2.94)"
ALLOW = ("Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, "
         "SUBSCRIBE, INFO, PRACK, UPDATE")
INST = '+sip.instance="<urn:uuid:5f2b7c1e-8d4a-4e3b-9c6f-0a1b2c3d4e5f>"'
V_ALICE = ("Via: SIP/2.0/UDP 192.0.2.101:5060;received=198.51.100.7;rport=40612;"
           "branch=z9hG4bK.Xa7Rk2pQm")
V_PA = ("Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;"
        "branch=z9hG4bK7c1e3f90a2d4b6.1")
V_PB = ("Via: SIP/2.0/TCP 203.0.113.20:5060;received=203.0.113.20;rport=5060;"
        "branch=z9hG4bKb3f8a21d.0")
RR = ("Record-Route: <sip:203.0.113.20;transport=tcp;lr;r2=on>, "
      "<sip:203.0.113.20;transport=udp;lr;r2=on>\r\n"
      "Record-Route: <sip:pc33.atlanta.example.com;lr>")
FROM_A = 'From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl'
TO_B = "To: <sip:bob@biloxi.example.com>"
TO_BT = TO_B + ";tag=8321234356"
CT_A = ("Contact: <sip:alice@198.51.100.7:40612;transport=udp>;" + INST +
        ";expires=3600")
CT_B = "Contact: <sip:bob@203.0.113.45:5062;transport=tcp;ob>;" + INST.replace(
    "5f2b7c1e", "c0ffee01")

SDP_OFFER = """v=0
o=alice 2890844526 2890844526 IN IP4 198.51.100.7
s=Talk
c=IN IP4 198.51.100.7
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 7078 RTP/AVP 96 97 0 8 101
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp:7079
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
a=sendrecv
"""

SDP_ANSWER = """v=0
o=bob 2808844564 2808844564 IN IP4 203.0.113.45
s=-
c=IN IP4 203.0.113.45
t=0 0
m=audio 49170 RTP/AVP 96 101
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1;maxaveragebitrate=32000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""

PIDF = """<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
    xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
    entity="sip:bob@biloxi.example.com">
  <tuple id="t8a3b2c">
    <status><basic>open</basic></status>
    <contact priority="0.8">sip:bob@203.0.113.45:5062;transport=tcp</contact>
    <timestamp>2024-05-14T09:21:33Z</timestamp>
  </tuple>
  <dm:person id="p4f1e0d">
    <rpid:activities><rpid:on-the-phone/></rpid:activities>
    <dm:note>In a call</dm:note>
  </dm:person>
</presence>
"""

MSGS = {}

MSGS["01_invite_sdp"] = ("""INVITE sip:bob@203.0.113.45:5062;transport=tcp;ob SIP/2.0
""" + V_PB + "\n" + V_PA + "\n" + V_ALICE + """
Max-Forwards: 68
""" + RR + "\n" + FROM_A + "\n" + TO_B + """
Call-ID: """ + CALLID + """
CSeq: 20 INVITE
""" + CT_A + "\n" + ALLOW + """
Supported: replaces, outbound, gruu, path, timer
Session-Expires: 1800;refresher=uac
""" + UA + """
P-Asserted-Identity: "Alice Liddell" <sip:alice@atlanta.example.com>
Allow-Events: presence, dialog, refer, message-summary
Accept: application/sdp
Content-Type: application/sdp
""", SDP_OFFER)

RESP_HDRS = (V_PB + "\n" + V_PA + "\n" + V_ALICE + "\n")

MSGS["02_100_trying"] = ("""SIP/2.0 100 Trying
""" + V_PA + "\n" + V_ALICE + "\n" + FROM_A + "\n" + TO_B + """
Call-ID: """ + CALLID + """
CSeq: 20 INVITE
Server: Ringlet-Test-Proxy/0.1
""", "")

MSGS["03_180_ringing"] = ("""SIP/2.0 180 Ringing
""" + RESP_HDRS + RR + "\n" + FROM_A + "\n" + TO_BT + """
Call-ID: """ + CALLID + """
CSeq: 20 INVITE
""" + CT_B + "\n" + ALLOW + """
Supported: replaces, outbound, gruu, timer
User-Agent: Grandstream GXP2170 1.0.11.3
""", "")

MSGS["04_200_ok_sdp"] = ("""SIP/2.0 200 OK
""" + RESP_HDRS + RR + "\n" + FROM_A + "\n" + TO_BT + """
Call-ID: """ + CALLID + """
CSeq: 20 INVITE
""" + CT_B + "\n" + ALLOW + """
Supported: replaces, outbound, gruu, timer
Require: timer
Session-Expires: 1800;refresher=uac
User-Agent: Grandstream GXP2170 1.0.11.3
Content-Type: application/sdp
""", SDP_ANSWER)

MSGS["05_ack"] = ("""ACK sip:bob@203.0.113.45:5062;transport=tcp;ob SIP/2.0
""" + V_PB.replace("b3f8a21d", "c4e9b32e") + "\n" + V_PA.replace("7c1e3f9", "8d2f4a0")
                   + "\n" + V_ALICE.replace("Xa7Rk2pQm", "Kf3Wq9zLx") + """
Max-Forwards: 68
""" + FROM_A + "\n" + TO_BT + """
Call-ID: """ + CALLID + """
CSeq: 20 ACK
""" + CT_A + "\n" + UA + """
""", "")

MSGS["06_bye"] = ("""BYE sip:alice@198.51.100.7:40612;transport=udp SIP/2.0
Via: SIP/2.0/UDP 203.0.113.20:5060;branch=z9hG4bK4b43c2ff8.0
Via: SIP/2.0/TCP 203.0.113.45:5062;received=203.0.113.45;rport=51822;branch=z9hG4bKnashds7
Max-Forwards: 69
Route: <sip:pc33.atlanta.example.com;lr>
From: <sip:bob@biloxi.example.com>;tag=8321234356
To: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl
Call-ID: """ + CALLID + """
CSeq: 231 BYE
User-Agent: Grandstream GXP2170 1.0.11.3
Reason: Q.850;cause=16;text="Normal call clearing"
""", "")

MSGS["07_register_auth"] = ("""REGISTER sip:atlanta.example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:40612;branch=z9hG4bK.aB1cD2eF3;rport=40612;received=198.51.100.7
Max-Forwards: 70
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=kY3f9Qp2
To: "Alice Liddell" <sip:alice@atlanta.example.com>
Call-ID: 843817637684230@998sdasdh09
CSeq: 1827 REGISTER
Contact: <sip:alice@198.51.100.7:40612;transport=udp>;""" + INST + """;reg-id=1;expires=3600
Expires: 3600
""" + ALLOW + """
Supported: path, gruu, outbound
""" + UA + """
Authorization: Digest username="alice", realm="atlanta.example.com", nonce="ZkP3kWZD9wE1Jt8o2cVbKgC7mQxYr4Ud", uri="sip:atlanta.example.com", response="8c1e6b0f4d7a2e93b5c8f1a0d6e4b273", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001
""", "")

MSGS["08_401_www_auth"] = ("""SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 198.51.100.7:40612;branch=z9hG4bK.aB1cD2eF2;rport=40612;received=198.51.100.7
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=kY3f9Qp2
To: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=a6c85cf
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
WWW-Authenticate: Digest realm="atlanta.example.com", nonce="ZkP3kWZD9wE1Jt8o2cVbKgC7mQxYr4Ud", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5, qop="auth"
Server: Ringlet-Test-Registrar/0.1
""", "")

MSGS["09_200_ok_register"] = ("""SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.7:40612;branch=z9hG4bK.aB1cD2eF3;rport=40612;received=198.51.100.7
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=kY3f9Qp2
To: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=b71d2e09
Call-ID: 843817637684230@998sdasdh09
CSeq: 1827 REGISTER
Contact: <sip:alice@198.51.100.7:40612;transport=udp>;""" + INST + """;reg-id=1;expires=3600
Contact: <sip:alice@192.0.2.55:5060>;expires=1200;q=0.5
Supported: path, gruu, outbound
Require: outbound
Date: Tue, 14 May 2024 09:21:30 GMT
Server: Ringlet-Test-Registrar/0.1
""", "")

MSGS["10_options"] = ("""OPTIONS sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.20:5060;branch=z9hG4bKd1e2f3a4b5.0
Via: SIP/2.0/UDP 198.51.100.7:40612;received=198.51.100.7;rport=40612;branch=z9hG4bK.Op7i0n5
Max-Forwards: 69
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=1928301774
To: <sip:bob@biloxi.example.com>
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 63104 OPTIONS
Contact: <sip:alice@198.51.100.7:40612;transport=udp>
Accept: application/sdp
Accept-Encoding: identity
""" + UA + """
""", "")

MSGS["11_subscribe_presence"] = ("""SUBSCRIBE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP 203.0.113.20:5060;branch=z9hG4bK5a6b7c8d.0
Via: SIP/2.0/UDP 198.51.100.7:40612;received=198.51.100.7;rport=40612;branch=z9hG4bK.Sub5cr1be
Max-Forwards: 69
Record-Route: <sip:203.0.113.20;transport=tcp;lr;r2=on>, <sip:203.0.113.20;transport=udp;lr;r2=on>
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=Qw9e8r7t
To: <sip:bob@biloxi.example.com>
Call-ID: 7f3a9c1e-2b4d-4f60-8e1a-b2c3d4e5f607
CSeq: 1 SUBSCRIBE
Contact: <sip:alice@198.51.100.7:40612;transport=udp>;""" + INST + """
Event: presence
Expires: 3600
Accept: application/pidf+xml
Supported: eventlist
""" + ALLOW + "\n" + UA + """
""", "")

MSGS["12_notify_pidf"] = ("""NOTIFY sip:alice@198.51.100.7:40612;transport=udp SIP/2.0
Via: SIP/2.0/UDP 203.0.113.20:5060;branch=z9hG4bK9e8d7c6b.0
Via: SIP/2.0/TCP 203.0.113.45:5062;received=203.0.113.45;rport=51822;branch=z9hG4bKnt1fy
Max-Forwards: 69
Record-Route: <sip:203.0.113.20;transport=udp;lr;r2=on>, <sip:203.0.113.20;transport=tcp;lr;r2=on>
From: <sip:bob@biloxi.example.com>;tag=ffd2a94e
To: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=Qw9e8r7t
Call-ID: 7f3a9c1e-2b4d-4f60-8e1a-b2c3d4e5f607
CSeq: 2 NOTIFY
Contact: <sip:bob@203.0.113.45:5062;transport=tcp;ob>
Event: presence
Subscription-State: active;expires=3599
User-Agent: Grandstream GXP2170 1.0.11.3
Content-Type: application/pidf+xml
""", PIDF)


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, (head, body) in MSGS.items():
        b = crlf(body).encode()
        text = crlf(head) + "Content-Length: %d\r\n\r\n" % len(b)
        with open(os.path.join(out, name + ".sip"), "wb") as f:
            f.write(text.encode() + b)
    print("wrote %d messages to %s" % (len(MSGS), out), file=sys.stderr)


if __name__ == "__main__":
    main()
