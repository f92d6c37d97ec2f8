#!/usr/bin/env bash
# Builds the Debian package dist/gridcast_<version>_amd64.deb:
#   /usr/bin/gridcast                         release build, Swift runtime and Foundation linked statically
#   /lib/systemd/system/gridcast.service      the unit of systemd/, pointed at /usr/bin/gridcast
#   /etc/gridcast/notices/                     the bundled notice library and its posters (conffiles: local edits
#                                              survive upgrades)
#   /usr/share/doc/gridcast/examples/          gridcast.yaml (config/example.yaml) and its groups.csv to copy
# Depends: on the Debian packages that own the shared libraries the binary loads (libcurl4, libsqlite3-0, libc6,
# ...), found with dpkg -S; it fails if the binary would load anything from the Swift toolchain.
# Needs Swift, dpkg-deb and git; no network once the package dependencies are fetched. Usage: scripts/package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
gridcast_install_deps
gridcast_install_package_deps

scratch=.build/static   # apart from the debug and benchmark builds, whose flags differ
scripts/with-commit.sh swift build -c release --static-swift-stdlib --product gridcast --scratch-path "$scratch"
binary="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/gridcast"

version=$("$binary" --version | sed -nE 's/^gridcast ([0-9][^ ]*) .*/\1/p')
[ -n "$version" ] || { echo "package.sh: could not read the version from '$binary --version'" >&2; exit 1; }
arch=$(dpkg --print-architecture)

# The shared libraries the binary needs, and the packages that own them.
needed=$(objdump -p "$binary" | awk '/NEEDED/ { print $2 }')
depends=()
for lib in $needed; do
    # awk reads to the end (no early exit): ldconfig must not die of SIGPIPE under pipefail.
    path=$(ldconfig -p | awk -v lib="$lib" '!found && $1 == lib && /x86-64|aarch64/ { print $NF; found = 1 }')
    if [ -z "$path" ]; then
        echo "package.sh: $binary needs $lib, which is not a system library (the Swift toolchain's?)" >&2
        exit 1
    fi
    # dpkg knows a file by the path its package ships it under: try the resolved path, then the link itself.
    owner=""
    for candidate in "$(readlink -f "$path")" "$path"; do
        owner=$(dpkg -S "$candidate" 2>/dev/null | awk -F: 'NR == 1 { print $1 }') && [ -n "$owner" ] && break
    done
    [ -n "$owner" ] || { echo "package.sh: no Debian package owns $path ($lib)" >&2; exit 1; }
    depends+=("$owner")
done
# The C library's symbols are versioned: ask for at least the release the binary was linked against.
glibc=$(dpkg-query -W -f='${Version}' libc6 | cut -d- -f1)
depends_line=$(printf '%s\n' "${depends[@]}" | sort -u | sed "s/^libc6\$/libc6 (>= $glibc)/" | paste -sd, |
    sed 's/,/, /g')

root=$(mktemp -d)
chmod 0755 "$root"   # the package's "./", not mktemp's private 0700
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$binary" "$root/usr/bin/gridcast"
strip --strip-unneeded "$root/usr/bin/gridcast"
install -d "$root/lib/systemd/system"
sed 's#/usr/local/bin/gridcast#/usr/bin/gridcast#g' systemd/gridcast.service >"$root/lib/systemd/system/gridcast.service"
install -d "$root/etc/gridcast/notices"
install -m 0644 config/notices/*.md "$root/etc/gridcast/notices/"
install -d "$root/etc/gridcast/notices/posters"
install -m 0644 config/notices/posters/*.png "$root/etc/gridcast/notices/posters/"
examples="$root/usr/share/doc/gridcast/examples"
install -D -m 0644 config/example.yaml "$examples/gridcast.yaml"
# groups.csv: the example rows written under groups_file in example.yaml, comment marks taken off.
grep '^#   ' config/example.yaml | cut -c5- >"$examples/groups.csv"
chmod 0644 "$examples/groups.csv"
install -D -m 0644 systemd/README.md "$root/usr/share/doc/gridcast/systemd.md"
install -D -m 0644 systemd/postgres-ledger.conf "$root/usr/share/doc/gridcast/examples/postgres-ledger.conf"
install -D -m 0644 README.md "$root/usr/share/doc/gridcast/README.md"

install -d "$root/DEBIAN"
(cd "$root" && find etc -type f | sed 's#^#/#' | sort) >"$root/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends_line/" -e "s/@SIZE@/$size/" \
    packaging/debian/control >"$root/DEBIAN/control"

mkdir -p dist
deb="dist/gridcast_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
