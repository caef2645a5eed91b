#!/bin/bash
# The project's lint: formatting, cppcheck, and the banned-function list (STYLE rule 8).
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find lib cgi-bin worker tests -name '*.[ch]')

# 1. Formatting.
if ! clang-format --dry-run -Werror $files 2>/tmp/custos-format.$$; then
	head -n 40 /tmp/custos-format.$$; echo "lint: clang-format would change files (make format)"; rc=1
fi
rm -f /tmp/custos-format.$$

# 2. Banned functions and headers, outside comments.
banned='\b(strcpy|strcat|sprintf|vsprintf|strncpy|strtok|atoi|atol|gets|sscanf|system|popen|rand|srand|tmpnam)[[:space:]]*\('
hits=$(grep -nE "$banned" $files | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)' || true)
if [ -n "$hits" ]; then echo "$hits"; echo "lint: banned function"; rc=1; fi
if grep -n 'fcgi_stdio\.h' $files; then echo "lint: use the FCGX_* API, not fcgi_stdio.h"; rc=1; fi
# Outside lib/mem.c nothing allocates with the bare C allocator.
bare=$(grep -nE '\b(malloc|calloc|realloc|free|strdup|strndup)[[:space:]]*\(' $(echo "$files" | grep -E '^(lib|cgi-bin|worker)/' | grep -v '^lib/mem.c$') | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)' || true)
if [ -n "$bare" ]; then echo "$bare"; echo "lint: allocate through lib/mem.h or the arena"; rc=1; fi

# 3. cppcheck on the library, responders and worker.
if ! cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem -D__cppcheck__ -Ilib lib cgi-bin worker 2>&1; then
	echo "lint: cppcheck found problems"; rc=1
fi
[ $rc -eq 0 ] && echo "lint: clean"
exit $rc
