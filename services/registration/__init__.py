"""Registration: campaigns (phong trào thi đua) and the registrations (đăng ký thi đua) to them."""
