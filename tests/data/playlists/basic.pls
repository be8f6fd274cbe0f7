[playlist]
File1=first.mp3
Title1=First Song
Length1=120
file3=third.ogg
File2=sub\second.flac
Title2=Second
Length2=-1
File4=http://example.com/stream
NumberOfEntries=4
Version=2
