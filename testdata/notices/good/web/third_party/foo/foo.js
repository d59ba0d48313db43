console.log("foo")
