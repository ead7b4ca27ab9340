-- expect: release.lua:2: attempt to call a nil value (field 'dump')
local code = ("x").dump(function() end)
