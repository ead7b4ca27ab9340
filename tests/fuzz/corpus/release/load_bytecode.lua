-- expect: release.lua:2: 'load' is not available in a build file
local f = load(string.dump(function() return 1 end))
