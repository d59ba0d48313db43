not third party
