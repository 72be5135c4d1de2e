module gpybench

go 1.19
