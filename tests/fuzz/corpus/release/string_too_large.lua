-- expect: release.lua:2: resulting string too large
local s = string.rep("x", 1 << 62)
