module github.com/kassahq/kassa

go 1.26

replace github.com/kassahq/kassa/plugins/sdk => ./plugins/sdk
