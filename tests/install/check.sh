#!/usr/bin/env bash
# Builds a program against an installed finack through pkg-config, statically
# and against the shared library, and runs both.
set -euo pipefail
prefix=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/use.c" <<'C'
#include <finack/finack.h>
#include <stdio.h>
int main(void)
{
    struct finack_stack *stack;
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    if (finack_stack_create(&stack, &cfg) != 0) return 1;
    printf("%s\n", finack_counter_name(FINACK_CTR_IP_IN_RECEIVES));
    finack_stack_destroy(stack);
    return 0;
}
C
cflags=$(pkg-config --cflags finack)
libs=$(pkg-config --libs finack)
cc -std=c11 -Wall -Werror $cflags "$tmp/use.c" -o "$tmp/use-shared" $libs
cc -std=c11 -Wall -Werror $cflags "$tmp/use.c" -o "$tmp/use-static" \
    "$(pkg-config --variable=libdir finack)/libfinack.a" -lm
libdir=$(pkg-config --variable=libdir finack)
[ "$(LD_LIBRARY_PATH=$libdir "$tmp/use-shared")" = IpInReceives ]
[ "$("$tmp/use-static")" = IpInReceives ]
echo "install: pkg-config, shared and static builds OK"
