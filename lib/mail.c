#include "mail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* auth-client.h first: libesmtp.h declares smtp_auth_set_context only after it. */
#include <auth-client.h>
#include <libesmtp.h>

#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "mem.h"

#define MAIL_MAX_MESSAGE (8 * 1024 * 1024)
#define MAIL_MAX_ADDR 254   /* RFC 5321's path limit less the angle brackets */
#define MAIL_MAX_PHRASE 512 /* a display name or a subject, in bytes before encoding */
#define MAIL_MAX_MSGID 250  /* so that "Message-ID: " plus it stays on one short line */
#define MAIL_QP_LINE 76     /* RFC 2045: encoded lines at most 76 characters */
#define MAIL_EW_BYTES 45    /* bytes per encoded word: 60 base64 characters, 75 in all */
#define MAIL_ID_BYTES 16
#define MAIL_SERVER_TEXT 256 /* how much of the server's last answer we keep */

/* What the session learns through libesmtp's callbacks. */
struct mail_state {
	int ms_tls_ok;                  /* STARTTLS completed and the certificate was accepted */
	int ms_starttls_missing;        /* the server did not offer STARTTLS */
	char ms_tls_why[200];           /* why the TLS session was refused */
	char ms_last[MAIL_SERVER_TEXT]; /* the last line the server sent */
	char *ms_user;                  /* copies for the AUTH exchange, wiped at the end */
	char *ms_pass;
	char ms_realm[1];
};

static void mail_detail(char *detail, size_t detaillen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
mail_detail(char *detail, size_t detaillen, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (detail == NULL || detaillen == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(detail, detaillen, fmt, ap) < 0)
		detail[0] = '\0';
	va_end(ap);
	/* The server's text goes into logs: keep it on one line. */
	for (i = 0; detail[i] != '\0'; i++)
		if ((unsigned char)detail[i] < 0x20 || detail[i] == 0x7f)
			detail[i] = ' ';
}

/* 1 when s has no control character (a tab is allowed): nothing can start a new header. */
static int
mail_line_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

static int
mail_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* A bare address local@domain: printable ASCII, no spaces, brackets or quotes. */
static int
mail_addr_ok(const char *s, size_t len)
{
	size_t i, at = 0, nat = 0;

	if (len == 0 || len > MAIL_MAX_ADDR)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '(' ||
		    c == ')' || c == ',' || c == ';' || c == '\\')
			return 0;
		if (c == '@') {
			at = i;
			nat++;
		}
	}
	return nat == 1 && at > 0 && at + 1 < len;
}

/*
 * Splits email.from, "Name <addr>" or "addr", into a display name and an address (both
 * caller frees; the name may be empty). -1 when it holds no valid address.
 */
static int
mail_parse_from(const char *from, char **name, char **addr)
{
	const char *lt = strrchr(from, '<'), *gt, *end;
	const char *a, *n = from;

	*name = *addr = NULL;
	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL || gt[1] != '\0')
			return -1;
		a = lt + 1;
		end = lt;
		while (*n == ' ' || *n == '\t')
			n++;
		while (end > n && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end - n >= 2 && n[0] == '"' && end[-1] == '"') {
			n++;
			end--;
		}
		if (!mail_addr_ok(a, (size_t)(gt - a)))
			return -1;
		*addr = cu_strndup(a, (size_t)(gt - a));
		*name = cu_strndup(n, (size_t)(end - n));
		return 0;
	}
	while (*n == ' ' || *n == '\t')
		n++;
	end = n + strlen(n);
	while (end > n && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (!mail_addr_ok(n, (size_t)(end - n)))
		return -1;
	*addr = cu_strndup(n, (size_t)(end - n));
	*name = cu_strdup("");
	return 0;
}

/*
 * Appends s as RFC 2047 encoded words (UTF-8, base64), each at most 75 characters, folded
 * onto continuation lines; a multi-byte character is never split across two words.
 */
static int
mail_put_encoded(struct cu_buf *b, const char *s)
{
	size_t len = strlen(s), i = 0;
	unsigned char out[4 * MAIL_EW_BYTES / 3 + 4];

	while (i < len) {
		size_t n = len - i < MAIL_EW_BYTES ? len - i : MAIL_EW_BYTES;
		int k;

		/* Back off to the start of a character. */
		while (i + n < len && n > 0 && ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n--;
		if (n == 0)
			n = len - i < MAIL_EW_BYTES ? len - i : MAIL_EW_BYTES;
		k = EVP_EncodeBlock(out, (const unsigned char *)s + i, (int)n);
		if (k < 0)
			return -1;
		if ((i > 0 && cu_buf_puts(b, "\r\n ") != 0) || cu_buf_puts(b, "=?UTF-8?B?") != 0 ||
		    cu_buf_append(b, out, (size_t)k) != 0 || cu_buf_puts(b, "?=") != 0)
			return -1;
		i += n;
	}
	return 0;
}

/* Characters a display name may hold without quoting (RFC 5322 atext and spaces). */
static int
mail_phrase_plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("()<>[]:;@\\,.\"", *s) != NULL)
			return 0;
	return 1;
}

/* Appends a display name: as is, quoted, or encoded when not ASCII. */
static int
mail_put_phrase(struct cu_buf *b, const char *name)
{
	if (!mail_is_ascii(name))
		return mail_put_encoded(b, name);
	if (mail_phrase_plain(name) && strstr(name, "=?") == NULL)
		return cu_buf_puts(b, name);
	if (cu_buf_putc(b, '"') != 0)
		return -1;
	for (; *name != '\0'; name++) {
		if ((*name == '"' || *name == '\\') && cu_buf_putc(b, '\\') != 0)
			return -1;
		if (cu_buf_putc(b, *name) != 0)
			return -1;
	}
	return cu_buf_putc(b, '"');
}

static int
mail_put_mailbox(struct cu_buf *b, const char *header, const char *name, const char *addr)
{
	if (cu_buf_printf(b, "%s: ", header) != 0)
		return -1;
	if (name != NULL && name[0] != '\0') {
		if (mail_put_phrase(b, name) != 0 || cu_buf_putc(b, ' ') != 0)
			return -1;
	}
	return cu_buf_printf(b, "<%s>\r\n", addr);
}

/* RFC 5322 date in UTC, written without the locale's day and month names. */
static int
mail_put_date(struct cu_buf *b, time_t now)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11)
		return -1;
	return cu_buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
	                     tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	                     tm.tm_min, tm.tm_sec);
}

static void
mail_hex(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * Appends s quoted-printable (RFC 2045): line breaks (LF or CRLF) become CRLF, encoded lines
 * are at most 76 characters with soft breaks, and a space or tab before a line break is
 * encoded so that no transport can strip it.
 */
static int
mail_put_qp(struct cu_buf *b, const char *s)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t col = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char tok[3];
		size_t n = 1;

		if (c == '\n' || (c == '\r' && s[1] == '\n')) {
			if (c == '\r')
				s++;
			if (cu_buf_puts(b, "\r\n") != 0)
				return -1;
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && s[1] != '\0' && s[1] != '\n' &&
		     !(s[1] == '\r' && s[2] == '\n'))) {
			tok[0] = (char)c;
		} else {
			tok[0] = '=';
			tok[1] = digits[c >> 4];
			tok[2] = digits[c & 15];
			n = 3;
		}
		/* Leave room for the '=' of a soft break. */
		if (col + n > MAIL_QP_LINE - 1) {
			if (cu_buf_puts(b, "=\r\n") != 0)
				return -1;
			col = 0;
		}
		if (cu_buf_append(b, tok, n) != 0)
			return -1;
		col += n;
	}
	return 0;
}

static int
mail_put_part(struct cu_buf *b, const char *type, const char *body)
{
	if (cu_buf_printf(b,
	                  "Content-Type: %s; charset=utf-8\r\n"
	                  "Content-Transfer-Encoding: quoted-printable\r\n"
	                  "\r\n",
	                  type) != 0 ||
	    mail_put_qp(b, body) != 0)
		return -1;
	return cu_buf_puts(b, "\r\n");
}

/*
 * Writes the whole RFC 5322 message into msg, and the envelope sender into *from_addr
 * (caller frees). -1 with the reason in detail when the mail cannot be sent as given.
 */
static int
mail_build(struct cu_buf *msg, char **from_addr, const struct cu_config *cfg,
           const struct cu_mail *m, char *detail, size_t detaillen)
{
	unsigned char rnd[MAIL_ID_BYTES];
	char hex[2 * MAIL_ID_BYTES + 1], boundary[2 * MAIL_ID_BYTES + 16];
	char *from_name = NULL;
	const char *subject = m->ml_subject != NULL ? m->ml_subject : "", *domain;
	int rc = -1;

	*from_addr = NULL;
	if (m->ml_to == NULL || !mail_addr_ok(m->ml_to, strlen(m->ml_to))) {
		mail_detail(detail, detaillen, "invalid recipient address");
		goto out;
	}
	if (m->ml_to_name != NULL &&
	    (!mail_line_ok(m->ml_to_name) || strlen(m->ml_to_name) > MAIL_MAX_PHRASE)) {
		mail_detail(detail, detaillen, "invalid recipient name: line breaks or too long");
		goto out;
	}
	if (!mail_line_ok(subject) || strlen(subject) > MAIL_MAX_PHRASE) {
		mail_detail(detail, detaillen, "invalid subject: line breaks or too long");
		goto out;
	}
	if (m->ml_text == NULL) {
		mail_detail(detail, detaillen, "a mail needs a text part");
		goto out;
	}
	if (cfg->email_from == NULL || !mail_line_ok(cfg->email_from) ||
	    strlen(cfg->email_from) > MAIL_MAX_PHRASE ||
	    mail_parse_from(cfg->email_from, &from_name, from_addr) != 0) {
		mail_detail(detail, detaillen, "email.from is not a valid address");
		goto out;
	}
	if (m->ml_message_id != NULL) {
		size_t n = strlen(m->ml_message_id);

		if (n < 5 || n > MAIL_MAX_MSGID || m->ml_message_id[0] != '<' ||
		    m->ml_message_id[n - 1] != '>' || !mail_addr_ok(m->ml_message_id + 1, n - 2)) {
			mail_detail(detail, detaillen, "invalid Message-ID");
			goto out;
		}
	}

	if (mail_put_mailbox(msg, "From", from_name, *from_addr) != 0 ||
	    mail_put_mailbox(msg, "To", m->ml_to_name, m->ml_to) != 0 ||
	    cu_buf_puts(msg, "Subject: ") != 0)
		goto toolong;
	/* Plain ASCII stays readable; anything else, or text that could pass for an encoded
	 * word, is encoded. */
	if (mail_is_ascii(subject) && strstr(subject, "=?") == NULL && strlen(subject) < 900) {
		if (cu_buf_puts(msg, subject) != 0)
			goto toolong;
	} else if (mail_put_encoded(msg, subject) != 0) {
		goto toolong;
	}
	if (cu_buf_puts(msg, "\r\n") != 0 || mail_put_date(msg, time(NULL)) != 0)
		goto toolong;
	if (m->ml_message_id != NULL) {
		if (cu_buf_printf(msg, "Message-ID: %s\r\n", m->ml_message_id) != 0)
			goto toolong;
	} else {
		cu_crypto_random(rnd, sizeof(rnd));
		mail_hex(hex, rnd, sizeof(rnd));
		domain = strchr(*from_addr, '@') + 1;
		if (cu_buf_printf(msg, "Message-ID: <%s@%s>\r\n", hex, domain) != 0)
			goto toolong;
	}
	if (cu_buf_puts(msg, "MIME-Version: 1.0\r\n") != 0)
		goto toolong;
	if (m->ml_html == NULL) {
		if (mail_put_part(msg, "text/plain", m->ml_text) != 0)
			goto toolong;
		rc = 0;
		goto out;
	}
	/* "=_" cannot occur in quoted-printable text, so the boundary never collides with it. */
	cu_crypto_random(rnd, sizeof(rnd));
	mail_hex(hex, rnd, sizeof(rnd));
	if (snprintf(boundary, sizeof(boundary), "=_custos_%s", hex) >= (int)sizeof(boundary))
		goto toolong;
	if (cu_buf_printf(msg,
	                  "Content-Type: multipart/alternative;\r\n"
	                  " boundary=\"%s\"\r\n"
	                  "\r\n"
	                  "--%s\r\n",
	                  boundary, boundary) != 0 ||
	    mail_put_part(msg, "text/plain", m->ml_text) != 0 ||
	    cu_buf_printf(msg, "--%s\r\n", boundary) != 0 ||
	    mail_put_part(msg, "text/html", m->ml_html) != 0 ||
	    cu_buf_printf(msg, "--%s--\r\n", boundary) != 0)
		goto toolong;
	rc = 0;
	goto out;
toolong:
	mail_detail(detail, detaillen, "the message is larger than %d bytes", MAIL_MAX_MESSAGE);
out:
	cu_free(from_name);
	if (rc != 0) {
		cu_free(*from_addr);
		*from_addr = NULL;
	}
	return rc;
}

/* libesmtp asks for the AUTH credentials here; the strings stay ours. */
static int
mail_auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	struct mail_state *ms = arg;
	int i;

	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = ms->ms_user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = ms->ms_pass;
		else if (req[i].flags & AUTH_REALM)
			result[i] = ms->ms_realm;
		else
			return 0;
	}
	return 1;
}

/*
 * libesmtp reports TLS progress and refusals here. Events that carry an "ok" flag are left
 * at its default (refuse): a certificate that does not verify or match ends the session
 * before anything is sent.
 */
static void
mail_event(smtp_session_t session, int event, void *arg, ...)
{
	struct mail_state *ms = arg;
	va_list ap;

	(void)session;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_EXTNA_STARTTLS:
		ms->ms_starttls_missing = 1;
		break;
	case SMTP_EV_STARTTLS_OK:
		ms->ms_tls_ok = 1;
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE: {
		long v = va_arg(ap, long);

		mail_detail(ms->ms_tls_why, sizeof(ms->ms_tls_why),
		            "the server's certificate was refused: %s",
		            X509_verify_cert_error_string(v));
		break;
	}
	case SMTP_EV_NO_PEER_CERTIFICATE:
		mail_detail(ms->ms_tls_why, sizeof(ms->ms_tls_why),
		            "the server sent no certificate");
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		mail_detail(ms->ms_tls_why, sizeof(ms->ms_tls_why),
		            "the server's certificate does not name email.host");
		break;
	case SMTP_EV_WEAK_CIPHER:
		mail_detail(ms->ms_tls_why, sizeof(ms->ms_tls_why), "the TLS cipher is too weak");
		break;
	default:
		break;
	}
	va_end(ap);
}

/* Keeps the last line the server sent, for the detail when the session ends early. What we
 * write (which includes AUTH) is never looked at. */
static void
mail_monitor(const char *buf, int len, int writing, void *arg)
{
	struct mail_state *ms = arg;
	const char *end, *start;

	if (writing != SMTP_CB_READING || len <= 0)
		return;
	end = buf + len;
	while (end > buf && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	start = end;
	while (start > buf && start[-1] != '\n')
		start--;
	if (end > start)
		mail_detail(ms->ms_last, sizeof(ms->ms_last), "%.*s", (int)(end - start), start);
}

/*
 * Our own TLS context: libesmtp 1.1 caches its default one in a static and frees it with the
 * first session, so a second TLS session in the same process would use freed memory. Peer
 * verification is checked by libesmtp after the handshake (and reported to mail_event); the
 * expected host name is set here so that a mismatch shows in the verification result too.
 */
static SSL_CTX *
mail_tls_ctx(const char *host)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;

	if (ctx == NULL)
		return NULL;
	param = SSL_CTX_get0_param(ctx);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_default_verify_paths(ctx) != 1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1 &&
	    X509_VERIFY_PARAM_set1_host(param, host, 0) != 1)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static enum cu_mail_result
mail_class(int code)
{
	if (code >= 200 && code < 300)
		return CU_MAIL_SENT;
	if (code >= 500 && code < 600)
		return CU_MAIL_PERMANENT;
	return CU_MAIL_TEMPORARY;
}

/* The first answer in the transaction that was not a success, or NULL. */
static const smtp_status_t *
mail_first_failure(smtp_message_t message, smtp_recipient_t rcpt)
{
	/* A phase never reached has no status: code 0, like one that got no answer. */
	static const smtp_status_t none = {0, NULL, 0, 0, 0};
	const smtp_status_t *st[3];
	size_t i;

	st[0] = smtp_reverse_path_status(message);
	st[1] = smtp_recipient_status(rcpt);
	st[2] = smtp_message_transfer_status(message);
	for (i = 0; i < 3; i++)
		if (st[i] == NULL)
			return &none;
		else if (st[i]->code < 200 || st[i]->code >= 300)
			return st[i];
	return NULL;
}

static void
mail_status_text(char *out, size_t outlen, const smtp_status_t *st)
{
	const char *t = st != NULL && st->text != NULL ? st->text : "";
	size_t n = strlen(t);

	while (n > 0 && (t[n - 1] == '\r' || t[n - 1] == '\n' || t[n - 1] == ' '))
		n--;
	mail_detail(out, outlen, "%d %.*s", st != NULL ? st->code : 0, (int)n, t);
}

static void
mail_log(const struct cu_config *cfg, enum cu_mail_result res, const char *detail)
{
	static const char *const names[] = {"sent", "temporary", "permanent"};

	cu_log(res == CU_MAIL_SENT ? CU_LOG_INFO : CU_LOG_WARNING, "mail_send",
	       CU_LS("host", cfg->email_host), CU_LI("port", cfg->email_port),
	       CU_LS("result", names[res]), CU_LS("detail", detail));
}

enum cu_mail_result
cu_mail_send(const struct cu_config *cfg, const struct cu_mail *m, char *detail, size_t detaillen)
{
	static int auth_ready;
	static const int phases[] = {Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA,
	                             Timeout_TRANSFER, Timeout_DATA2};
	smtp_session_t session = NULL;
	smtp_message_t message;
	smtp_recipient_t rcpt;
	auth_context_t authctx = NULL;
	SSL_CTX *tls = NULL;
	const smtp_status_t *st;
	struct mail_state ms;
	struct cu_buf msg, server;
	char *from_addr = NULL, local[MAIL_SERVER_TEXT];
	const char *host = cfg->email_host != NULL ? cfg->email_host : "";
	enum cu_mail_result res = CU_MAIL_PERMANENT;
	size_t i;

	memset(&ms, 0, sizeof(ms));
	cu_buf_init(&msg, MAIL_MAX_MESSAGE);
	cu_buf_init(&server, 512);
	mail_detail(detail, detaillen, "%s", "");
	if (cfg->email_use_ssl) {
		mail_detail(detail, detaillen,
		            "email.use_ssl (implicit TLS) is not supported: libesmtp 1.1 only "
		            "speaks STARTTLS; set email.use_tls with the submission port 587");
		goto out;
	}
	/* libesmtp splits "host:port" at the first colon, so an IPv6 literal cannot work. */
	if (host[0] == '\0' || strchr(host, ':') != NULL || !mail_line_ok(host)) {
		mail_detail(detail, detaillen, "email.host must be a host name or an IPv4 address");
		goto out;
	}
	if (mail_build(&msg, &from_addr, cfg, m, detail, detaillen) != 0)
		goto out;
	if (cu_buf_printf(&server, "%s:%d", host, cfg->email_port) != 0) {
		mail_detail(detail, detaillen, "email.host is too long");
		goto out;
	}

	res = CU_MAIL_TEMPORARY;
	if ((session = smtp_create_session()) == NULL ||
	    smtp_set_server(session, server.bf_ptr) == 0 ||
	    smtp_set_eventcb(session, mail_event, &ms) == 0 ||
	    smtp_set_monitorcb(session, mail_monitor, &ms, 0) == 0) {
		mail_detail(detail, detaillen, "cannot set up the SMTP session");
		goto out;
	}
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		smtp_set_timeout(session, phases[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
		                 (long)cfg->email_timeout * 1000L);
	if (cfg->email_use_tls) {
		if ((tls = mail_tls_ctx(host)) == NULL ||
		    smtp_starttls_set_ctx(session, tls) == 0 ||
		    smtp_starttls_enable(session, Starttls_REQUIRED) == 0) {
			res = CU_MAIL_PERMANENT;
			mail_detail(detail, detaillen, "cannot set up TLS for %s", host);
			goto out;
		}
	} else if (smtp_starttls_enable(session, Starttls_DISABLED) == 0) {
		mail_detail(detail, detaillen, "cannot set up the SMTP session");
		goto out;
	}
	if (cfg->email_username != NULL && cfg->email_username[0] != '\0') {
		if (!auth_ready) {
			auth_client_init();
			auth_ready = 1;
		}
		ms.ms_user = cu_strdup(cfg->email_username);
		ms.ms_pass = cu_strdup(cfg->email_password != NULL ? cfg->email_password : "");
		/* PLAIN and LOGIN send the password as is; authentik offers them over a
		 * plain connection too, and email.use_tls is what protects it. */
		if ((authctx = auth_create_context()) == NULL ||
		    auth_set_mechanism_flags(authctx, AUTH_PLUGIN_PLAIN, 0) == 0 ||
		    auth_set_interact_cb(authctx, mail_auth_interact, &ms) == 0 ||
		    smtp_auth_set_context(session, authctx) == 0) {
			mail_detail(detail, detaillen, "cannot set up SMTP AUTH");
			goto out;
		}
	}
	if ((message = smtp_add_message(session)) == NULL ||
	    smtp_set_reverse_path(message, from_addr) == 0 ||
	    smtp_set_message_str(message, msg.bf_ptr) == 0 ||
	    (rcpt = smtp_add_recipient(message, m->ml_to)) == NULL) {
		mail_detail(detail, detaillen, "cannot set up the SMTP message");
		goto out;
	}

	if (smtp_start_session(session) == 0) {
		char why[128];

		if (smtp_strerror(smtp_errno(), why, sizeof(why)) == NULL)
			mail_detail(why, sizeof(why), "error %d", smtp_errno());
		if (ms.ms_last[0] != '\0')
			mail_detail(detail, detaillen, "%s: %s (last answer: %s)", server.bf_ptr,
			            why, ms.ms_last);
		else
			mail_detail(detail, detaillen, "%s: %s", server.bf_ptr, why);
		goto out;
	}
	/* The session can end "successfully" without sending: TLS required but refused. */
	if (cfg->email_use_tls && !ms.ms_tls_ok) {
		res = CU_MAIL_PERMANENT;
		if (ms.ms_starttls_missing)
			mail_detail(detail, detaillen,
			            "%s does not offer STARTTLS, which email.use_tls requires; "
			            "nothing was sent",
			            server.bf_ptr);
		else if (ms.ms_tls_why[0] != '\0')
			mail_detail(detail, detaillen, "%s: %s; nothing was sent", server.bf_ptr,
			            ms.ms_tls_why);
		else {
			res = CU_MAIL_TEMPORARY;
			mail_detail(detail, detaillen, "%s: STARTTLS failed (%s); nothing was sent",
			            server.bf_ptr,
			            ms.ms_last[0] != '\0' ? ms.ms_last : "no answer");
		}
		goto out;
	}
	st = mail_first_failure(message, rcpt);
	if (st == NULL) {
		res = CU_MAIL_SENT;
		mail_status_text(detail, detaillen, smtp_message_transfer_status(message));
	} else if (st->code == 0) {
		char why[128];

		res = CU_MAIL_TEMPORARY;
		if (smtp_strerror(smtp_errno(), why, sizeof(why)) == NULL)
			why[0] = '\0';
		mail_detail(detail, detaillen, "%s: the session ended early: %s%s%s", server.bf_ptr,
		            ms.ms_last[0] != '\0' ? ms.ms_last : "no answer",
		            why[0] != '\0' ? "; " : "", why);
	} else {
		res = mail_class(st->code);
		mail_status_text(local, sizeof(local), st);
		mail_detail(detail, detaillen, "%s", local);
	}
out:
	mail_log(cfg, res, detail != NULL ? detail : "");
	if (session != NULL)
		smtp_destroy_session(session);
	if (authctx != NULL)
		auth_destroy_context(authctx);
	SSL_CTX_free(tls);
	if (ms.ms_pass != NULL) {
		cu_wipe(ms.ms_pass, strlen(ms.ms_pass));
		cu_free(ms.ms_pass);
	}
	cu_free(ms.ms_user);
	cu_free(from_addr);
	cu_buf_free(&server);
	cu_buf_free(&msg);
	return res;
}
