-- expect: release.lua:2: 'os' is not available in a build file
os.execute("touch /tmp/xgo-build-escaped")
project { name = "x" }
