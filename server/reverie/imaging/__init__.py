"""Images as files and as pixels: reading and writing, layouts to and from the engine's float RGB, zoom animations."""
