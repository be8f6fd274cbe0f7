; a PLS file that forgot its header
File1=a.mp3
Title1=A
