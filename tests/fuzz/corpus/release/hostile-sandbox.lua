project { name = "x", version = "1" }
go "1.26.8"
local g = getmetatable("").__index
local t = {}
setmetatable(t, { __index = function(_, k) return rawget(_G or {}, k) end })
local ok = pcall(function() return io.open("/etc/passwd") end)
local ok2 = pcall(function() return os.execute("true") end)
local co = coroutine and coroutine.wrap(function() while true do coroutine.yield(string.rep("x", 1000)) end end)
for i = 1, 10 do if co then co() end end
build "x" { main = "." }
