#include "notify.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "json.h"
#include "version.h"

/* authentik's NOTIFICATION_SUMMARY_LENGTH and DISCORD_FIELD_LIMIT. */
#define NOTIFY_SUMMARY_LENGTH 75
#define NOTIFY_FIELD_LIMIT 25
#define NOTIFY_ICON "https://goauthentik.io/img/icon.png"

/* The first max code points of s (UTF-8), as Python's s[:max], arena-owned. */
static const char *
utf8_prefix(struct cu_arena *a, const char *s, size_t max)
{
	size_t i = 0, n = 0;

	while (s[i] != '\0' && n < max) {
		i++;
		while ((s[i] & 0xC0) == 0x80)
			i++;
		n++;
	}
	return cu_arena_strndup(a, s, i);
}

/* The event's user snapshot when it is a non-empty object (Python's truthiness), or NULL. */
static struct json_object *
event_user(const struct cu_notify_msg *m)
{
	struct json_object *u = NULL;

	if (m->nm_event == NULL || cu_json_get_object(m->nm_event, "user", &u) != 0 || u == NULL ||
	    json_object_object_length(u) == 0)
		return NULL;
	return u;
}

/* dict.get(key, None) of the event's user, as a JSON value (a new reference or NULL). */
static struct json_object *
user_value(struct json_object *u, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(u, key, &v))
		return NULL;
	return json_object_get(v);
}

const char *
cu_notify_webhook_body(struct cu_arena *a, const struct cu_notify_msg *m)
{
	struct json_object *o = cu_json_object(a), *u = event_user(m);

	cu_json_set_string(o, "body", m->nm_body);
	cu_json_set_string(o, "severity", m->nm_severity);
	cu_json_set_string(o, "user_email", m->nm_email);
	cu_json_set_string(o, "user_username", m->nm_username);
	if (u != NULL) {
		cu_json_set(o, "event_user_email", user_value(u, "email"));
		cu_json_set(o, "event_user_username", user_value(u, "username"));
	}
	return cu_json_text(o, NULL);
}

static void
add_field(struct json_object *fields, const char *title, const char *value, int is_short)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(f, "title", json_object_new_string(title));
	json_object_object_add(f, "value", json_object_new_string(value));
	if (is_short)
		json_object_object_add(f, "short", json_object_new_boolean(1));
	json_object_array_add(fields, f);
}

const char *
cu_notify_slack_body(struct cu_arena *a, const struct cu_notify_msg *m)
{
	struct json_object *o = cu_json_object(a), *att, *atts, *fields, *u = event_user(m);
	struct json_object *ctx = NULL;
	const char *action = NULL;

	fields = json_object_new_array();
	add_field(fields, "Severity", m->nm_severity, 1);
	add_field(fields, "Dispatched for user", m->nm_username, 1);
	if (m->nm_event != NULL) {
		if (u != NULL) {
			struct json_object *name = NULL;

			/* str(dict.get("username")): "None" when absent. */
			add_field(fields, "Event user",
			          json_object_object_get_ex(u, "username", &name) && name != NULL
			              ? json_object_get_string(name)
			              : "None",
			          1);
		}
		if (cu_json_get_object(m->nm_event, "context", &ctx) == 0 && ctx != NULL) {
			json_object_object_foreach(ctx, k, v)
			{
				if (v == NULL || !json_object_is_type(v, json_type_string))
					continue;
				if (json_object_array_length(fields) >= NOTIFY_FIELD_LIMIT)
					continue;
				add_field(fields, utf8_prefix(a, k, 256),
				          utf8_prefix(a, json_object_get_string(v), 1024), 0);
			}
		}
	}
	att = json_object_new_object();
	json_object_object_add(att, "author_name", json_object_new_string("authentik"));
	json_object_object_add(att, "author_link",
	                       json_object_new_string("https://goauthentik.io"));
	json_object_object_add(att, "author_icon", json_object_new_string(NOTIFY_ICON));
	if (m->nm_event != NULL && cu_json_get_string(m->nm_event, "action", &action) == 0)
		json_object_object_add(att, "title", json_object_new_string(action));
	else
		json_object_object_add(att, "title", json_object_new_string(m->nm_body));
	json_object_object_add(att, "color", json_object_new_string("#fd4b2d"));
	json_object_object_add(att, "fields", fields);
	json_object_object_add(att, "footer", json_object_new_string("authentik " CU_VERSION));
	atts = json_object_new_array();
	json_object_array_add(atts, att);
	cu_json_set_string(o, "username", "authentik");
	cu_json_set_string(o, "icon_url", NOTIFY_ICON);
	cu_json_set(o, "attachments", atts);
	return cu_json_text(o, NULL);
}

const char *
cu_notify_mail_args(struct cu_arena *a, const struct cu_notify_msg *m, const char *subject_prefix,
                    const char *template_name)
{
	struct json_object *o = cu_json_object(a), *vars = json_object_new_object();
	struct json_object *kv = json_object_new_object(), *u = event_user(m), *ctx = NULL;
	const char *title = NULL, *p;

	for (p = m->nm_email; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	if (*p == '\0') {
		json_object_put(vars);
		json_object_put(kv);
		return NULL;
	}
	json_object_object_add(kv, "user_email", json_object_new_string(m->nm_email));
	json_object_object_add(kv, "user_username", json_object_new_string(m->nm_username));
	if (u != NULL) {
		json_object_object_add(kv, "event_user_email", user_value(u, "email"));
		json_object_object_add(kv, "event_user_username", user_value(u, "username"));
	}
	if (m->nm_event != NULL) {
		if (cu_json_get_string(m->nm_event, "action", &title) != 0)
			title = "";
		if (cu_json_get_object(m->nm_event, "context", &ctx) == 0 && ctx != NULL) {
			json_object_object_foreach(ctx, k, v)
			{
				if (v != NULL && json_object_is_type(v, json_type_string))
					json_object_object_add(kv, k, json_object_get(v));
			}
		}
	} else {
		title = utf8_prefix(a, m->nm_body, NOTIFY_SUMMARY_LENGTH);
	}
	json_object_object_add(vars, "title", json_object_new_string(title));
	json_object_object_add(vars, "body", json_object_new_string(m->nm_body));
	json_object_object_add(
	    vars, "url", json_object_new_string(m->nm_hyperlink != NULL ? m->nm_hyperlink : ""));
	json_object_object_add(
	    vars, "link_label",
	    json_object_new_string(m->nm_hyperlink_label != NULL ? m->nm_hyperlink_label : ""));
	/* Only superusers learn which transport sent it, as authentik's source.from. */
	json_object_object_add(vars, "source_from",
	                       json_object_new_string(m->nm_superuser ? m->nm_transport : ""));
	json_object_object_add(vars, "key_value", kv);
	cu_json_set_string(o, "to", m->nm_email);
	cu_json_set_string(o, "to_name", m->nm_name);
	cu_json_set_string(o, "template", template_name);
	cu_json_set_string(o, "subject", cu_arena_printf(a, "%s%s", subject_prefix, title));
	cu_json_set(o, "vars", vars);
	return cu_json_text(o, NULL);
}

struct answer {
	char *an_buf;
	size_t an_len, an_cap;
};

/* Keeps the start of the body; the rest is read and dropped so the exchange completes. */
static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct answer *an = userdata;
	size_t n = size * nmemb, room = an->an_cap - 1 - an->an_len;

	if (room > 0) {
		size_t k = n < room ? n : room;

		memcpy(an->an_buf + an->an_len, ptr, k);
		an->an_len += k;
		an->an_buf[an->an_len] = '\0';
	}
	return n;
}

enum cu_notify_result
cu_notify_post(const char *url, const char *json, long *status, char *answer, size_t answerlen)
{
	return cu_notify_post_body(url, "application/json", json, status, answer, answerlen);
}

enum cu_notify_result
cu_notify_post_body(const char *url, const char *content_type, const char *body, long *status,
                    char *answer, size_t answerlen)
{
	char ctype[128];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	struct answer an = {answer, 0, answerlen};
	enum cu_notify_result out = CU_NOTIFY_TEMPORARY;
	CURL *c = NULL;
	CURLcode rc;

	*status = 0;
	answer[0] = '\0';
	errbuf[0] = '\0';
	c = curl_easy_init();
	if (c == NULL) {
		snprintf(answer, answerlen, "cannot start an HTTP client");
		return CU_NOTIFY_TEMPORARY;
	}
	snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
	headers = curl_slist_append(headers, ctype);
	headers = curl_slist_append(headers, "Accept: */*");
	headers = curl_slist_append(headers, "User-Agent: authentik@" CU_VERSION);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, CU_NOTIFY_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CU_NOTIFY_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &an);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(answer, answerlen, "%s%s%s", curl_easy_strerror(rc),
		         errbuf[0] != '\0' ? ": " : "", errbuf);
		out = rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT
		          ? CU_NOTIFY_PERMANENT
		          : CU_NOTIFY_TEMPORARY;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 200 && *status < 300)
		out = CU_NOTIFY_SENT;
	else if (*status >= 500)
		out = CU_NOTIFY_TEMPORARY;
	else
		out = CU_NOTIFY_PERMANENT;
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return out;
}
