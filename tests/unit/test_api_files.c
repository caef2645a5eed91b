/* lib/api/files.c: the media file name rules and the type found in a file's content. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api/files.h"
#include "arena.h"
#include "xmlsig.h"

static int
name_ok(const char *s)
{
	const char *why = NULL;
	int rc = cu_api_files_name_check(s, strlen(s), &why);

	assert_true(rc == 0 ? why == NULL : why != NULL && why[0] != '\0');
	return rc == 0;
}

static void
test_names_accepted(void **state)
{
	static const char *const good[] = {
	    "logo.png",   "brand/logo.svg",     "a",     "A-b_c.9", "deep/er/path/icon.ico", "x..y",
	    "dir.d/file", "v1.2.3/file.tar.gz", "-dash", "_under",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(name_ok(good[i]));
}

static void
test_names_refused(void **state)
{
	static const char *const bad[] = {
	    "",          "/etc/passwd", "../x",     "a/../b", "a/..",      "..",          ".",
	    ".hidden",   "./x",         "a/./b",    "a//b",   "//x",       "a/",          "dir/",
	    "sp ace",    "back\\slash", "per%cent", "q?s",    "h#sh",      "uni\xc3\xa9", "tab\t",
	    "new\nline", "semi;colon",  "quote\"",  "<svg>",  "%(theme)s",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (name_ok(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void
test_names_nul_and_lengths(void **state)
{
	char buf[CU_API_FILES_MAX_NAME + 2];
	const char *why = NULL;

	(void)state;
	/* A NUL inside the given length is a character the rules refuse. */
	assert_int_equal(cu_api_files_name_check("a\0b", 3, &why), -1);
	assert_int_equal(cu_api_files_name_check(NULL, 0, &why), -1);

	/* 255 bytes a part, 1024 in all. */
	memset(buf, 'a', CU_API_FILES_MAX_PART);
	buf[CU_API_FILES_MAX_PART] = '\0';
	assert_true(name_ok(buf));
	memset(buf, 'a', CU_API_FILES_MAX_PART + 1);
	buf[CU_API_FILES_MAX_PART + 1] = '\0';
	assert_false(name_ok(buf));
	for (size_t i = 0; i < CU_API_FILES_MAX_NAME; i++)
		buf[i] = i % 100 == 99 ? '/' : 'b';
	buf[CU_API_FILES_MAX_NAME] = '\0';
	assert_true(name_ok(buf));
	buf[CU_API_FILES_MAX_NAME] = 'b';
	buf[CU_API_FILES_MAX_NAME + 1] = '\0';
	assert_false(name_ok(buf));
}

static const char *
sniff(struct cu_arena *a, const char *data, size_t len)
{
	return cu_api_files_sniff(a, data, len);
}

#define SNIFF(a, lit) sniff((a), (lit), sizeof(lit) - 1)

static void
test_sniff_images(void **state)
{
	struct cu_arena a;
	char ico[22] = {0, 0, 1, 0, 1, 0};

	(void)state;
	cu_arena_init(&a);
	assert_string_equal(SNIFF(&a, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
	assert_string_equal(SNIFF(&a, "\xff\xd8\xff\xe0\0\x10JFIF"), "image/jpeg");
	assert_string_equal(SNIFF(&a, "GIF89a\1\0\1\0"), "image/gif");
	assert_string_equal(SNIFF(&a, "GIF87a\1\0\1\0"), "image/gif");
	assert_string_equal(SNIFF(&a, "RIFF\x24\0\0\0WEBPVP8 "), "image/webp");
	assert_string_equal(sniff(&a, ico, sizeof(ico)), "image/x-icon");
	/* An ICO header that declares no image is not one. */
	ico[4] = 0;
	assert_null(sniff(&a, ico, sizeof(ico)));
	/* Truncated signatures. */
	assert_null(SNIFF(&a, "\x89PNG\r\n"));
	assert_null(SNIFF(&a, "\xff\xd8"));
	assert_null(SNIFF(&a, "RIFF\x24\0\0\0WEB"));
	assert_null(sniff(&a, "", 0));
	cu_arena_free(&a);
}

static void
test_sniff_svg(void **state)
{
	struct cu_arena a;

	(void)state;
	assert_int_equal(cu_xmlsig_init(), 0);
	cu_arena_init(&a);
	assert_string_equal(SNIFF(&a,
	                          "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\">"
	                          "<rect width=\"1\" height=\"1\"/></svg>"),
	                    "image/svg+xml");
	assert_string_equal(SNIFF(&a, "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                              "<!-- drawn by hand -->\n<svg><g/></svg>\n"),
	                    "image/svg+xml");
	/* A DOCTYPE, with or without entities, is refused. */
	assert_null(SNIFF(&a,
	                  "<?xml version=\"1.0\"?><!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
	                  "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\"><svg/>"));
	assert_null(SNIFF(&a, "<!DOCTYPE svg [<!ENTITY a \"aaaa\">]><svg>&a;</svg>"));
	/* Another root, another namespace, not well-formed, not XML. */
	assert_null(SNIFF(&a, "<html><body><svg/></body></html>"));
	assert_null(SNIFF(&a, "<x:svg xmlns:x=\"urn:other\"/>"));
	assert_null(SNIFF(&a, "<svg><g></svg>"));
	assert_null(SNIFF(&a, "<svg/><script>alert(1)</script>"));
	assert_null(SNIFF(&a, "alert(document.cookie)"));
	assert_null(SNIFF(&a, "<!doctype html><script>alert(1)</script>"));
	assert_null(SNIFF(&a, "%PDF-1.7\n"));
	assert_null(SNIFF(&a, "<svg>\xff</svg>"));
	cu_arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_accepted),
	    cmocka_unit_test(test_names_refused),
	    cmocka_unit_test(test_names_nul_and_lengths),
	    cmocka_unit_test(test_sniff_images),
	    cmocka_unit_test(test_sniff_svg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
