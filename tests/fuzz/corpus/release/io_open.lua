-- expect: release.lua:2: 'io' is not available in a build file
local f = io.open("/etc/passwd")
