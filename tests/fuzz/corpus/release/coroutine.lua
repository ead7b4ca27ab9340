-- expect: release.lua:2: 'coroutine' is not available in a build file
local co = coroutine.wrap(function() end)
