extension Substring {
    /// Drops leading and trailing characters in `characters`.
    public func trimming(_ characters: Set<Character>) -> Substring {
        var result = self
        while let first = result.first, characters.contains(first) { result = result.dropFirst() }
        while let last = result.last, characters.contains(last) { result = result.dropLast() }
        return result
    }
}
