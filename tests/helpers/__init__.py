"""What tests share: fake servers, fabricated run directories, burst and S3 helpers."""
