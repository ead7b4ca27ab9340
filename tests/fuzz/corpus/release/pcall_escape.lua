-- expect: release.lua:2: 'pcall' is not available in a build file
pcall(function() while true do end end)
