"""What each channel of a model dreams of: contact sheets of channel objectives, cached, and the channels
most active on a picture."""
