"""Generated protocol buffer modules; regenerate with gen.sh in the example's directory."""
