package cuda

// GoHeader is goHeader, for the external tests.
var GoHeader = goHeader
