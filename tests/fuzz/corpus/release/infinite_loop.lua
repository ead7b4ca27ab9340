-- expect: release.lua:3: instruction limit of 100000000 exceeded (an endless loop?)
project { name = "x" }
while true do end
