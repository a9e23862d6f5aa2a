"""The runtime around SpiffWorkflow. Knows nothing of Flask: the web pages, CLI,
worker and scenario runner all drive it."""
