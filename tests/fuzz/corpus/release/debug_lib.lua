-- expect: release.lua:2: 'debug' is not available in a build file
debug.sethook()
