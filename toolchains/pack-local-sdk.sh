#!/bin/sh
# pack-local-sdk.sh - pack an installed Go SDK (a GOROOT) into a go.dev-style
# archive go<version>.<os>-<arch>.tar.gz (top directory go/) and add it to an
# index.json beside it, so that the directory is a mirror xgo-build can use:
#
#   toolchains/pack-local-sdk.sh -o /srv/gomirror            # packs $(go env GOROOT)
#   xgo-build lock --sdk-mirror file:///srv/gomirror
#
# The archive is deterministic (sorted entries, mtime 0, owner 0, modes 0755/0644,
# gzip without a timestamp), and its extracted tree has the same xgo tree digest
# as the GOROOT it came from.  Needs python3.
set -eu

usage() {
	cat <<USAGE
usage: pack-local-sdk.sh [-o OUTDIR] [-g GOROOT] [-p OS-ARCH] [-l LEVEL] [-z]

  -o OUTDIR    where to write the archive and index.json (default .)
  -g GOROOT    the SDK to pack (default: \$GOROOT, else 'go env GOROOT')
  -p OS-ARCH   platform in the file name (default: the SDK's GOHOSTOS-GOHOSTARCH)
  -l LEVEL     gzip level 1-9 (default 6)
  -z           write a .zip (as go.dev does for windows) instead of .tar.gz
USAGE
}

out=. goroot=${GOROOT:-} plat= level=6 zip=0
while getopts o:g:p:l:zh opt; do
	case $opt in
	o) out=$OPTARG ;;
	g) goroot=$OPTARG ;;
	p) plat=$OPTARG ;;
	l) level=$OPTARG ;;
	z) zip=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
if [ -z "$goroot" ]; then
	goroot=$(go env GOROOT 2>/dev/null) || { echo "pack-local-sdk.sh: no GOROOT: give -g DIR" >&2; exit 2; }
fi
if [ ! -f "$goroot/VERSION" ]; then
	echo "pack-local-sdk.sh: '$goroot' has no VERSION file; is it a GOROOT?" >&2
	exit 2
fi
if [ -z "$plat" ]; then
	if [ -x "$goroot/bin/go" ] && p=$(GOROOT=$goroot "$goroot/bin/go" env GOHOSTOS GOHOSTARCH 2>/dev/null); then
		plat=$(printf '%s' "$p" | tr '\n' '-')
	else
		echo "pack-local-sdk.sh: cannot run '$goroot/bin/go' to learn its platform; give -p OS-ARCH" >&2
		exit 2
	fi
fi
mkdir -p "$out"

exec python3 - "$goroot" "$out" "$plat" "$level" "$zip" <<'PY'
import gzip, hashlib, io, json, os, stat, sys, tarfile, zipfile

goroot, out, plat, level, use_zip = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
goos, goarch = plat.split("-", 1)
with open(os.path.join(goroot, "VERSION")) as f:
    version = f.readline().strip()          # "go1.26.8"
name = "%s.%s-%s.%s" % (version, goos, goarch, "zip" if use_zip else "tar.gz")
path = os.path.join(out, name)

def entries(root):
    """(archive name, full path) for every entry: sorted, each directory before
    its contents, symlinks kept as symlinks."""
    out = [("go", root)]
    def rec(d, arc):
        for n in sorted(os.listdir(d)):
            full, a = os.path.join(d, n), arc + "/" + n
            out.append((a, full))
            if os.path.isdir(full) and not os.path.islink(full):
                rec(full, a)
    rec(root, "go")
    return out

tmp = path + ".tmp"
if use_zip:
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for arc, full in entries(goroot):
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                zi = zipfile.ZipInfo(arc + "/", (1980, 1, 1, 0, 0, 0))
                zi.external_attr = (0o40755 << 16) | 0x10
                z.writestr(zi, b"")
            elif stat.S_ISREG(st.st_mode):
                zi = zipfile.ZipInfo(arc, (1980, 1, 1, 0, 0, 0))
                zi.external_attr = (0o100755 if st.st_mode & 0o111 else 0o100644) << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                with open(full, "rb") as f:
                    z.writestr(zi, f.read())
            elif stat.S_ISLNK(st.st_mode):
                zi = zipfile.ZipInfo(arc, (1980, 1, 1, 0, 0, 0))
                zi.external_attr = 0o120777 << 16
                z.writestr(zi, os.readlink(full))
else:
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as t:
        for arc, full in entries(goroot):
            ti = t.gettarinfo(full, arcname=arc)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            ti.mtime = 0
            if ti.isdir():
                ti.mode = 0o755
            elif ti.isreg():
                ti.mode = 0o755 if ti.mode & 0o111 else 0o644
            else:
                ti.mode = 0o777
            if ti.isreg():
                with open(full, "rb") as f:
                    t.addfile(ti, f)
            else:
                t.addfile(ti)
os.replace(tmp, path)

h = hashlib.sha256()
with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
entry = {"filename": name, "os": goos, "arch": goarch, "version": version,
         "sha256": h.hexdigest(), "size": os.path.getsize(path), "kind": "archive"}

index_path = os.path.join(out, "index.json")
try:
    with open(index_path) as f:
        index = json.load(f)
except FileNotFoundError:
    index = []
rel = next((r for r in index if r.get("version") == version), None)
if rel is None:
    rel = {"version": version, "stable": True, "files": []}
    index.append(rel)
rel["files"] = [x for x in rel["files"] if x.get("filename") != name] + [entry]
with open(index_path + ".tmp", "w") as f:
    json.dump(index, f, indent=1, sort_keys=True)
    f.write("\n")
os.replace(index_path + ".tmp", index_path)
print(path)
PY
