-- expect: release.lua:2: attempt to index a boolean value
local str = getmetatable("").__index
