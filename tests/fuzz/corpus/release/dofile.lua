-- expect: release.lua:2: 'dofile' is not available in a build file
dofile("/etc/passwd")
