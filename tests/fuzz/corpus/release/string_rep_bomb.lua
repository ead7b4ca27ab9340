-- expect: release.lua: memory limit of 64 MiB exceeded
local s = string.rep("x", 1 << 30)
