#!/bin/sh
# man/install.sh PREFIX - install what `ninja install` installs under
# $DESTDIR$PREFIX: the binary, xgo-build(1) and the bash, zsh and fish
# completions (made by man/gen.py from the binary's --help into build/man/).
set -eu
root="${DESTDIR:-}$1"
install -D -m 0755 build/xgo-build "$root/bin/xgo-build"
install -D -m 0644 build/man/xgo-build.1 "$root/share/man/man1/xgo-build.1"
install -D -m 0644 build/man/xgo-build.bash "$root/share/bash-completion/completions/xgo-build"
install -D -m 0644 build/man/_xgo-build "$root/share/zsh/site-functions/_xgo-build"
install -D -m 0644 build/man/xgo-build.fish "$root/share/fish/vendor_completions.d/xgo-build.fish"
echo "installed $root/bin/xgo-build, its man page and completions"
