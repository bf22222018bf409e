module github.com/gosess/sess/tools

go 1.25
