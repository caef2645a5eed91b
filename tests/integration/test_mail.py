"""custos-worker test_email against a real SMTP server (aiosmtpd) started by each test.

Covers the message as received (headers, both parts, quoted-printable, RFC 2047), the mapping
of server answers to exit codes (1: try again later, 2: refused), template overrides, AUTH,
and that email.use_tls never falls back to a plaintext send.
"""
import datetime
import email
import email.policy
import email.utils
import os
import re
import socket
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from conftest import binary, config_path

TO = "someone@example.com"
FROM_ADDR = "noreply@example.com"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """Keeps every message; answers RCPT and DATA as told."""

    def __init__(self, rcpt_answer=None, data_answer=None):
        self.envelopes = []
        self.sessions = []
        self.rcpt_answer = rcpt_answer
        self.data_answer = data_answer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_answer:
            return self.data_answer
        self.envelopes.append(envelope)
        self.sessions.append({"tls": session.ssl is not None,
                              "authenticated": session.authenticated})
        return "250 2.0.0 Ok: queued as 4711"


@pytest.fixture
def smtp():
    """Starts an SMTP server on a free loopback port: smtp(handler, **SMTP options) -> port."""
    started = []

    def start(handler=None, hostname="127.0.0.1", **kwargs):
        handler = handler or Collector()
        port = free_port()
        c = Controller(handler, hostname=hostname, port=port, ready_timeout=10, **kwargs)
        c.start()
        started.append(c)
        return handler, port

    yield start
    for c in started:
        c.stop()


def worker(port, to=TO, **env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_EMAIL__")}
    e.update({
        "CUSTOS_CONFIG": config_path(),
        "CUSTOS_EMAIL__HOST": "127.0.0.1",
        "CUSTOS_EMAIL__PORT": str(port),
        "CUSTOS_EMAIL__FROM": "custos <%s>" % FROM_ADDR,
        "CUSTOS_EMAIL__TIMEOUT": "5",
        "CUSTOS_EMAIL__TEMPLATE_DIR": "/nonexistent/custos-templates",
    })
    e.update(env)
    return subprocess.run([binary("custos-worker"), "test_email", to], env=e,
                          capture_output=True, text=True, timeout=60)


def parse(envelope):
    return email.message_from_bytes(envelope.original_content or envelope.content,
                                    policy=email.policy.default)


def raw_lines(envelope):
    return (envelope.original_content or envelope.content).split(b"\r\n")


def write_templates(folder, name, txt=None, html=None):
    os.makedirs(os.path.join(folder, os.path.dirname(name)), exist_ok=True)
    if txt is not None:
        with open(os.path.join(folder, name + ".txt"), "w", encoding="utf-8") as f:
            f.write(txt)
    if html is not None:
        with open(os.path.join(folder, name + ".html"), "w", encoding="utf-8") as f:
            f.write(html)


def test_sent_with_both_parts_and_headers(smtp):
    h, port = smtp()
    p = worker(port)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "sent to %s" % TO
    assert len(h.envelopes) == 1
    env = h.envelopes[0]
    assert env.mail_from == FROM_ADDR
    assert env.rcpt_tos == [TO]
    msg = parse(env)
    assert msg["From"].addresses[0].display_name == "custos"
    assert msg["From"].addresses[0].addr_spec == FROM_ADDR
    assert msg["To"].addresses[0].addr_spec == TO
    assert msg["Subject"] == "custos test email"
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", msg["Message-ID"])
    sent = email.utils.parsedate_to_datetime(msg["Date"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - sent).total_seconds()) < 300
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [x.get_content_type() for x in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part.get_content_charset() == "utf-8"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Hello %s," % TO in text
    assert "custos can send email" in text
    assert "<p>Hello %s,</p>" % TO in html
    assert 'style="' in html
    # Every line on the wire fits in 76 characters once encoded (headers are short here).
    assert all(len(l) <= 76 for l in raw_lines(env)), [l for l in raw_lines(env) if len(l) > 76]
    # The worker logs the outcome, never the message.
    assert '"event":"mail_send"' in p.stderr and '"result":"sent"' in p.stderr


def test_non_ascii_subject_name_and_quoted_printable(smtp, tmp_path):
    h, port = smtp()
    subject = "Grüße aus Zürich ✓ — " + "ünïcödé " * 12
    long_line = "Ein sehr langer Absatz mit Umlauten äöü und = Zeichen " * 6
    txt = ("Subject: %s{{ user_name }}\n\n"
           "%s\n"
           ".a line starting with a dot\n"
           ".\n"
           "..two dots\n"
           "trailing space \n"
           "tab\tinside and trailing\t\n"
           "end = =3D\n") % (subject, long_line)
    html = "<p>Grüße, {{ user_name }} &amp; {{{ user_name }}}</p>\n<p>.dot</p>\n"
    write_templates(str(tmp_path), "email/setup", txt, html)
    p = worker(port, CUSTOS_EMAIL__TEMPLATE_DIR=str(tmp_path),
               CUSTOS_EMAIL__FROM="Cüstös Ñame <%s>" % FROM_ADDR)
    assert p.returncode == 0, p.stderr
    env = h.envelopes[0]
    msg = parse(env)
    assert msg["Subject"] == subject + TO
    assert msg["From"].addresses[0].display_name == "Cüstös Ñame"
    assert msg["From"].addresses[0].addr_spec == FROM_ADDR
    raw = env.original_content or env.content
    # Headers are 7-bit: encoded words, not raw UTF-8.
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"=?UTF-8?B?" in head
    # The body is 7-bit too, and decodes back to exactly what the template said.
    assert raw.isascii()
    text = msg.get_body(("plain",)).get_content()
    expected = txt.split("\n\n", 1)[1]
    assert text.replace("\r\n", "\n") == expected
    assert msg.get_body(("html",)).get_content().replace("\r\n", "\n") == (
        "<p>Grüße, %s &amp; %s</p>\n<p>.dot</p>\n" % (TO, TO))
    assert all(len(l) <= 76 for l in raw_lines(env)[raw_lines(env).index(b""):])


def test_permanent_refusal_exit_2_with_server_text(smtp):
    h, port = smtp(Collector(rcpt_answer="550 5.1.1 <someone@example.com>: no such mailbox here"))
    p = worker(port)
    assert p.returncode == 2, p.stderr
    assert "550" in p.stderr and "no such mailbox here" in p.stderr
    assert h.envelopes == []


def test_temporary_refusal_exit_1(smtp):
    h, port = smtp(Collector(data_answer="451 4.3.0 try again, disk full"))
    p = worker(port)
    assert p.returncode == 1, p.stderr
    assert "451" in p.stderr and "disk full" in p.stderr


def test_nothing_listening_exit_1():
    port = free_port()
    p = worker(port)
    assert p.returncode == 1, p.stderr
    assert "127.0.0.1:%d" % port in p.stderr
    assert "sent to" not in p.stdout


def test_template_folder_overrides_setup(smtp, tmp_path):
    h, port = smtp()
    write_templates(str(tmp_path), "email/setup",
                    "Subject: Our own test\n\nCustom body for {{ user_name }}.\n",
                    "<p>Custom <b>HTML</b> for {{ user_name }}</p>")
    p = worker(port, CUSTOS_EMAIL__TEMPLATE_DIR=str(tmp_path))
    assert p.returncode == 0, p.stderr
    msg = parse(h.envelopes[0])
    assert msg["Subject"] == "Our own test"
    assert msg.get_body(("plain",)).get_content().strip() == "Custom body for %s." % TO
    assert msg.get_body(("html",)).get_content() == "<p>Custom <b>HTML</b> for %s</p>" % TO


def test_template_outside_folder_refused(smtp, tmp_path):
    h, port = smtp()
    folder = tmp_path / "tpl"
    (folder / "email").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("Subject: leaked\n\nnot a template\n")
    os.symlink(str(tmp_path / "secret.txt"), str(folder / "email" / "setup.txt"))
    p = worker(port, CUSTOS_EMAIL__TEMPLATE_DIR=str(folder))
    assert p.returncode != 0
    assert "email/setup" in p.stderr
    assert h.envelopes == []


def test_header_injection_refused(smtp):
    h, port = smtp()
    p = worker(port, to="victim@example.com\r\nBcc: other@example.com")
    assert p.returncode == 2
    assert "recipient" in p.stderr
    p = worker(port, CUSTOS_EMAIL__FROM="custos <noreply@example.com>\r\nBcc: x@example.com")
    assert p.returncode != 0
    assert h.envelopes == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH")
def test_auth(smtp):
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((mechanism, auth_data.login, auth_data.password))
        # handled=False: the server answers 535 itself and keeps the connection.
        return AuthResult(success=auth_data.password == b"s3cret-Pw", handled=False)

    h, port = smtp(authenticator=authenticator, auth_require_tls=False, auth_required=True)
    p = worker(port, CUSTOS_EMAIL__USERNAME="mailer", CUSTOS_EMAIL__PASSWORD="s3cret-Pw")
    assert p.returncode == 0, p.stderr
    assert seen and seen[-1][1:] == (b"mailer", b"s3cret-Pw")
    assert h.sessions[0]["authenticated"]
    assert "s3cret-Pw" not in p.stdout + p.stderr
    # A wrong password: the server refuses the mail, and the password is not shown.
    p = worker(port, CUSTOS_EMAIL__USERNAME="mailer", CUSTOS_EMAIL__PASSWORD="wrong-Pw")
    assert p.returncode == 2, p.stderr
    assert "530" in p.stderr
    assert "wrong-Pw" not in p.stdout + p.stderr
    assert len(h.envelopes) == 1


def test_starttls_required_but_not_offered(smtp):
    h, port = smtp()
    p = worker(port, CUSTOS_EMAIL__USE_TLS="true")
    assert p.returncode == 2, p.stderr
    assert "STARTTLS" in p.stderr
    assert h.envelopes == []


def test_implicit_tls_refused_clearly(smtp):
    h, port = smtp()
    p = worker(port, CUSTOS_EMAIL__USE_SSL="true")
    assert p.returncode == 2
    assert "use_ssl" in p.stderr
    assert h.envelopes == []


def make_cert(folder, name, san):
    """A self-signed certificate for name, and a server context holding it."""
    key, crt = os.path.join(folder, name + ".key"), os.path.join(folder, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=" + san],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    return ctx, crt


@pytest.fixture
def cert(tmp_path):
    return make_cert(str(tmp_path), "localhost", "DNS:localhost,IP:127.0.0.1")


def test_starttls_untrusted_certificate_refused(smtp, cert):
    ctx, _ = cert
    h, port = smtp(tls_context=ctx, require_starttls=True)
    p = worker(port, CUSTOS_EMAIL__USE_TLS="true", CUSTOS_EMAIL__HOST="localhost",
               SSL_CERT_FILE="/nonexistent/ca.pem", SSL_CERT_DIR="/nonexistent")
    assert p.returncode == 2, p.stderr
    assert "certificate" in p.stderr
    assert h.envelopes == []


def test_starttls_trusted_certificate(smtp, cert):
    ctx, crt = cert
    h, port = smtp(tls_context=ctx, require_starttls=True)
    p = worker(port, CUSTOS_EMAIL__USE_TLS="true", CUSTOS_EMAIL__HOST="localhost",
               SSL_CERT_FILE=crt)
    assert p.returncode == 0, p.stderr
    assert h.sessions[0]["tls"]
    assert parse(h.envelopes[0])["Subject"] == "custos test email"


def test_starttls_certificate_for_another_name_refused(smtp, tmp_path):
    # Trusted, but issued to another host than the one email.host names.
    ctx, crt = make_cert(str(tmp_path), "mail.other.example", "DNS:mail.other.example")
    h, port = smtp(tls_context=ctx, require_starttls=True)
    p = worker(port, CUSTOS_EMAIL__USE_TLS="true", CUSTOS_EMAIL__HOST="localhost",
               SSL_CERT_FILE=crt)
    assert p.returncode == 2, p.stderr
    assert "certificate" in p.stderr
    assert h.envelopes == []
